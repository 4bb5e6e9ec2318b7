import ChorusNode
import Foundation

/// What the devnet shows of one node at one refresh: its status, its current epoch and its last
/// final weight table, each nil when the node did not answer (starting, stopped, or no epochs).
struct DevnetNodeView: Sendable {
    var status: NodeStatus?
    var epoch: EpochStatus?
    var weights: WeightsResult?

    /// This node's PoC weight per model in its own last final table (empty when it is not in it).
    var ownWeights: [String: UInt64] {
        guard let key = status?.publicKey, let row = weights?.participants.first(where: { $0.participant == key }) else { return [:] }
        return Dictionary(row.models.map { ($0.model, $0.pocWeight) }, uniquingKeysWith: +)
    }

    /// The nonce rate of this node's current generation (all models), nil without PoC.
    var noncesPerSecond: Double? {
        status?.poc.map { $0.generation.filter(\.running).reduce(0.0) { $0 + $1.noncesPerSecond } }
    }

    /// Asks every node at once; a node that does not answer within 2 s shows as not answering.
    static func collect(_ directories: [String]) async -> [DevnetNodeView] {
        await withTaskGroup(of: (Int, DevnetNodeView).self) { group in
            for (index, dataDir) in directories.enumerated() {
                group.addTask {
                    let socket = DataDirectory(dataDir).controlSocket
                    func ask<R: Codable & Sendable>(_ request: ControlRequest, _ type: R.Type) async -> R? {
                        try? await ControlClient.call(request, socketPath: socket, as: type, timeout: .seconds(2))
                    }
                    let status = await ask(.status, NodeStatus.self)
                    // A node that does not answer status will not answer the others either.
                    guard status != nil else { return (index, DevnetNodeView()) }
                    return (index, DevnetNodeView(status: status, epoch: await ask(.epoch(nil), EpochStatus.self),
                                                  weights: await ask(.weights(epoch: nil), WeightsResult.self)))
                }
            }
            var all = [DevnetNodeView](repeating: DevnetNodeView(), count: directories.count)
            for await (index, view) in group { all[index] = view }
            return all
        }
    }
}
