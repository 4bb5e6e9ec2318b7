import ChorusCrypto
import ChorusInference
import ChorusMesh
import Foundation
import Synchronization
import ChorusTestKit
import Testing
@testable import ChorusNode

/// Inference routing between real nodes on loopback (Specs/inference-routing.md): a gateway's
/// request reaches the executor's backend and its text streams back; the executor's bounds,
/// cancels, timeouts and hostile messages.
@Suite(.serialized) struct NodeInferenceTests {
    static let job = InferenceJob(model: "scripted", input: .chat([.init(role: "user", content: "hi")]), maxTokens: 8)

    /// A gateway `a` (no local model) and an executor `b` serving `backend`, connected.
    func pair(_ backend: ScriptedInferenceBackendForTests, settings: InferenceService.Settings = .init())
        async throws -> (a: NodeHarnessForTests, b: NodeHarnessForTests) {
        let a = try await NodeHarnessForTests()
        let b = try await NodeHarnessForTests(configuration: NodeHarnessForTests.testConfiguration(seeds: [a.address]))
        await a.node.attachInference(local: nil, settings: settings)
        await b.node.attachInference(local: backend, settings: settings)
        #expect(await eventually { await a.node.connectedPeers == [b.key.publicKey] })
        return (a, b)
    }

    func collect(_ events: AsyncStream<InferenceService.RemoteEvent>) async -> (text: String, last: InferenceService.RemoteEvent?) {
        var text = ""
        var last: InferenceService.RemoteEvent?
        for await event in events {
            if case let .delta(d) = event { text += d.text } else { last = event }
        }
        return (text, last)
    }

    @Test func aForwardedJobStreamsBackAndEnds() async throws {
        let backend = ScriptedInferenceBackendForTests(pieces: ["The ", "capital ", "is ", "Paris."])
        let (a, b) = try await pair(backend)
        defer { Task { await a.shutdown(); await b.shutdown() } }
        let events = try #require(await a.node.forwardInference(SecureRandom.bytes32(), Self.job, to: b.key.publicKey))
        let (text, last) = await collect(events)
        #expect(text == "The capital is Paris.")
        guard case let .end(finish, prompt, completion)? = last else { Issue.record("ended with \(String(describing: last))"); return }
        #expect(finish == .length && prompt == 3 && completion == 4)
        #expect(await a.node.inferenceReport()?.pending == 0)
        #expect(await eventually { await b.node.inferenceReport()?.served == 0 })
    }

    /// Past `maxServedPerPeer` jobs for one gateway the executor answers 503 at once; the held
    /// ones finish once released.
    @Test func anExecutorBoundsTheJobsOfOneGateway() async throws {
        var settings = InferenceService.Settings()
        settings.maxServedPerPeer = 2
        let backend = ScriptedInferenceBackendForTests(pieces: ["x"], held: true)
        let (a, b) = try await pair(backend, settings: settings)
        defer { Task { await a.shutdown(); await b.shutdown() } }
        var streams: [AsyncStream<InferenceService.RemoteEvent>] = []
        for _ in 0..<3 {
            streams.append(try #require(await a.node.forwardInference(SecureRandom.bytes32(), Self.job, to: b.key.publicKey)))
        }
        let refused = await collect(streams[2])
        guard case let .error(error)? = refused.last else { Issue.record("expected a refusal, got \(String(describing: refused.last))"); return }
        #expect(error.status == 503 && error.message.contains("limit"))
        #expect(backend.started <= 2)
        backend.release()
        for stream in streams.prefix(2) {
            guard case .end? = await collect(stream).last else { Issue.record("a held job did not end"); return }
        }
    }

    @Test func aCancelStopsTheExecutorsJob() async throws {
        let backend = ScriptedInferenceBackendForTests(pieces: Array(repeating: "tok ", count: 5_000), pace: .milliseconds(2))
        let (a, b) = try await pair(backend)
        defer { Task { await a.shutdown(); await b.shutdown() } }
        let id = SecureRandom.bytes32()
        let events = try #require(await a.node.forwardInference(id, Self.job, to: b.key.publicKey))
        for await event in events {
            if case .delta = event { break }
        }
        await a.node.cancelInference(id)
        #expect(await eventually { backend.stoppedEarly == 1 })
        #expect(await eventually { await b.node.inferenceReport()?.served == 0 })
    }

    /// An executor that sends nothing within the timeout is given up on and told to stop.
    @Test func aStalledExecutorTimesOut() async throws {
        var settings = InferenceService.Settings()
        settings.firstEventTimeout = .milliseconds(300)
        let backend = ScriptedInferenceBackendForTests(pieces: ["late"], held: true)
        let (a, b) = try await pair(backend, settings: settings)
        defer { Task { await a.shutdown(); await b.shutdown() } }
        let events = try #require(await a.node.forwardInference(SecureRandom.bytes32(), Self.job, to: b.key.publicKey))
        guard case .timedOut? = await collect(events).last else { Issue.record("expected a timeout"); return }
        backend.release()
        #expect(await eventually { backend.stoppedEarly == 1 })
    }

    /// A malformed inference message is a protocol violation: the sender is disconnected.
    @Test func aMalformedMessageDisconnectsItsSender() async throws {
        let (a, b) = try await pair(ScriptedInferenceBackendForTests(pieces: []))
        defer { Task { await a.shutdown(); await b.shutdown() } }
        #expect(await a.node.send([1, 1, 0xFF], tag: Node.inferenceTag, to: b.key.publicKey, priority: .control))
        #expect(await eventually { await b.node.connectedPeers.isEmpty })
        #expect(await b.node.inferenceReport()?.malformed == 1)
    }

    /// Before any final table lists a model, a node that runs it serves its own requests through
    /// the mesh backend; a model nobody runs is a 404 naming what is available.
    @Test func withoutATableANodeServesItsOwnModel() async throws {
        var configuration = NodeHarnessForTests.testConfiguration()
        configuration.servedModels = ["scripted"]
        let a = try await NodeHarnessForTests(configuration: configuration)
        defer { Task { await a.shutdown() } }
        let backend = ScriptedInferenceBackendForTests(pieces: ["ok"])
        await a.node.attachInference(local: backend)
        let mesh = MeshInferenceBackend(node: a.node, local: backend)
        #expect(try await mesh.models() == ["scripted"])
        let outcome = try await mesh.run(Self.job, limits: APILimits()) { _ in true }
        #expect(outcome.completionTokens == 1)
        do {
            _ = try await mesh.run(InferenceJob(model: "other", input: .text("x")), limits: APILimits()) { _ in true }
            Issue.record("expected model_not_found")
        } catch {
            #expect(error.status == 404 && error.message.contains("scripted"))
        }
    }
}

@Suite struct InferenceMessageTests {
    @Test func everyKindRoundTrips() throws {
        let id = Blake2b.hash256(Array("id".utf8))
        let messages: [InferenceMessage] = [
            .request(id: id, job: InferenceJob(model: "m", input: .chat([.init(role: "user", content: "héllo")]), maxTokens: 5,
                                               temperature: 0.7, topP: 0.9, topK: 40, stop: ["\n"], topLogprobs: 2)),
            .request(id: id, job: InferenceJob(model: "m", input: .text("p"))),
            .delta(id: id, CompletionDelta(text: "Par", logprobs: [TokenLogprob(token: "Par", logprob: -0.25, top: [.init(token: "Lon", logprob: -2)])])),
            .end(id: id, finish: .stop, promptTokens: 12, completionTokens: 3),
            .error(id: id, .overloaded("busy")),
            .cancel(id: id),
        ]
        for m in messages {
            #expect(try InferenceMessage.decode(m.encoded()[...]) == m)
        }
    }

    @Test func boundsAndJunkAreRefused() {
        let id = Bytes32.zero
        var tooMany = InferenceJob(model: "m", input: .text("p"))
        tooMany.topLogprobs = 9
        #expect(throws: (any Error).self) { try InferenceMessage.decode(InferenceMessage.request(id: id, job: tooMany).encoded()[...]) }
        var hot = InferenceJob(model: "m", input: .text("p"))
        hot.temperature = .infinity
        #expect(throws: (any Error).self) { try InferenceMessage.decode(InferenceMessage.request(id: id, job: hot).encoded()[...]) }
        var bytes = InferenceMessage.cancel(id: id).encoded()
        #expect(throws: (any Error).self) { try InferenceMessage.decode((bytes + [0])[...]) }
        bytes[1] = 9
        #expect(throws: (any Error).self) { try InferenceMessage.decode(bytes[...]) }
        #expect(throws: (any Error).self) { try InferenceMessage.decode([2, 5][...]) }
    }
}

@Suite struct CircuitBreakersTests {
    @Test func opensAfterConsecutiveFailuresAndProbesOnceAfterTheWait() {
        var breakers = CircuitBreakers(settings: .init(failureThreshold: 3, openFor: .seconds(30)))
        let x = Bytes32.zero
        var now = MonotonicTime.zero
        func admits(_ at: MonotonicTime) -> Bool { breakers.admits(x, now: at) }
        breakers.failed(x, now: now)
        breakers.failed(x, now: now)
        var ok = admits(now)
        #expect(ok && breakers.open(now: now).isEmpty)
        breakers.succeeded(x)
        for _ in 0..<3 { breakers.failed(x, now: now) }
        ok = admits(now)
        #expect(!ok && breakers.open(now: now) == [x])
        now = now + .seconds(31)
        ok = admits(now)
        #expect(ok)
        ok = admits(now)
        #expect(!ok)  // one probe at a time
        breakers.failed(x, now: now)
        ok = admits(now + .seconds(1))
        #expect(!ok)
        now = now + .seconds(31)
        ok = admits(now)
        #expect(ok)
        breakers.succeeded(x)
        ok = admits(now)
        #expect(ok && breakers.count == 0)
    }
}
