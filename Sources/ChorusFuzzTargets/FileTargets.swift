import ChorusCompute
import ChorusNetworkFile
import ChorusNode
import ChorusProtocol
import ChorusWorkerAPI
import Foundation
#if canImport(Glibc)
import Glibc
#endif

enum FileTargets {
    /// GGUF is read from a path (it is memory-mapped): each input is written to one temporary file
    /// per process first.
    static let ggufPath = NSTemporaryDirectory() + "/chorus-fuzz-\(getpid()).gguf"

    static func gguf(_ data: [UInt8]) {
        let fd = open(ggufPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { return }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == data.count, let file = try? GGUFFile(path: ggufPath) else { return }
        for tensor in file.tensors {
            check(tensor.fileOffset >= file.dataOffset && tensor.fileOffset + tensor.byteCount <= file.fileSize,
                  "tensor \(tensor.name) outside the file")
            if tensor.elementCount <= 1 << 16 {
                check(file.floats(tensor).count == tensor.elementCount, "dequantized size")
            }
        }
        for key in file.metadataKeys {
            _ = try? file.requiredInt(key)
            _ = try? file.requiredString(key)
            _ = try? file.requiredStringArray(key)
            _ = try? file.requiredIntArray(key)
            _ = try? file.requiredDouble(key)
        }
    }

    static func networkFile(_ data: [UInt8]) {
        _ = try? NetworkFile.parseDocument(String(decoding: data, as: UTF8.self), file: "fuzz.toml")
    }

    /// As `ControlServer` decodes a request line; a decoded request survives encoding.
    static func controlRequest(_ data: [UInt8]) {
        guard let request = try? JSONDecoder().decode(ControlRequest.self, from: Data(data)) else { return }
        guard let again = try? JSONEncoder().encode(request) else {
            check(false, "decoded control request cannot be encoded")
            return
        }
        check((try? JSONDecoder().decode(ControlRequest.self, from: again)) == request, "control request round trip")
    }

    /// The worker's request bodies, decoded by the protocol's own `WorkerJSON.decode` (ChorusWorkerAPI).
    static func workerDecode<T: Decodable>(_ type: T.Type, _ data: Data) {
        _ = try? WorkerJSON.decode(T.self, from: data)
    }

    static let workerDecoders: [@Sendable (Data) -> Void] = [
        { workerDecode(LoadModelRequest.self, $0) },
        { workerDecode(PoCJobRequest.self, $0) },
        { workerDecode(GenerateRequest.self, $0) },
        { workerDecode(ScoreRequestMessage.self, $0) },
        { workerDecode(VerifyRequest.self, $0) },
        { workerDecode(TokenizeRequest.self, $0) },
        { workerDecode(DetokenizeRequest.self, $0) },
    ]

    static func workerJSON(_ data: [UInt8]) {
        guard let first = data.first else { return }
        workerDecoders[Int(first) % workerDecoders.count](Data(data.dropFirst()))
    }

    /// The devnet's parameters (Network/devnet/network.toml, read next to this source file); nil
    /// when the file is not there, and then exports are only decoded.
    static let devnetParameters: NetworkParameters? = {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Network/devnet/network.toml").path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return try? NetworkFile.parse(text, file: path)
    }()

    static func epochExport(_ data: [UInt8]) {
        guard let export = try? JSONDecoder().decode(EpochExport.self, from: Data(data)) else { return }
        guard let parameters = devnetParameters else { return }
        let verification = export.verify(parameters: parameters)
        check(!verification.matches || verification.problems.isEmpty, "an export that matches has problems")
    }
}
