import ChorusWorkerAPI
import ChorusWorkerHTTP
import Foundation
import Testing

/// The client never hangs on a bad worker: each failure is typed and marks the worker unhealthy.
@Suite struct WorkerHTTPClientHealthTests {
    static var shortTimeouts: WorkerHTTPClient.Timeouts {
        var t = WorkerHTTPClient.Timeouts()
        t.request = 0.5
        t.load = 0.5
        t.streamIdle = 0.5
        return t
    }

    static func failure(_ behaviour: MisbehavingWorkerForTests.Behaviour,
                        _ call: @Sendable (WorkerHTTPClient) async throws -> Void) async throws -> WorkerClientError? {
        let fake = try await MisbehavingWorkerForTests.start(behaviour)
        defer { Task { await fake.stop() } }
        let client = WorkerHTTPClient(baseURL: fake.url, timeouts: shortTimeouts)
        do {
            try await call(client)
            return nil
        } catch let error as WorkerClientError {
            return error
        }
    }

    @Test func aHangingWorkerTimesOut() async throws {
        // The worker never answers: only the client's deadline can end the call (no wall-clock bound
        // here: a loaded CI machine stretches it, and `.timedOut` already proves the deadline fired).
        let error = try await Self.failure(.hang) { _ = try await $0.state() }
        guard case .timedOut? = error else { Issue.record("expected timedOut, got \(String(describing: error))"); return }
        #expect(error?.workerUnhealthy == true)
    }

    @Test func aCrashingWorkerIsUnhealthy() async throws {
        let error = try await Self.failure(.crash) { _ = try await $0.info() }
        guard case let .serverError(_, status, body)? = error else { Issue.record("expected serverError, got \(String(describing: error))"); return }
        #expect(status == 500 && body.contains("Traceback"))
        #expect(error?.workerUnhealthy == true)
    }

    @Test func garbageAndWrongShapesAreMalformed() async throws {
        for behaviour in [MisbehavingWorkerForTests.Behaviour.garbage, .wrongShape] {
            let error = try await Self.failure(behaviour) { _ = try await $0.info() }
            guard case .malformedResponse? = error else { Issue.record("expected malformedResponse, got \(String(describing: error))"); continue }
            #expect(error?.workerUnhealthy == true)
        }
    }

    @Test func aStalledGenerationStreamTimesOut() async throws {
        let error = try await Self.failure(.stallStream) { client in
            _ = try await client.generate(GenerateRequest(model: "m", promptTokens: [1])) { _ in true }
        }
        guard case .timedOut? = error else { Issue.record("expected timedOut, got \(String(describing: error))"); return }
    }

    @Test func aMissingWorkerIsUnreachable() async throws {
        let client = WorkerHTTPClient(baseURL: "http://127.0.0.1:1", timeouts: Self.shortTimeouts)
        do {
            _ = try await client.state()
            Issue.record("expected an error")
        } catch {
            #expect(error.workerUnhealthy)
        }
    }
}
