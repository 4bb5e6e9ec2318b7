import ChorusCrypto
import ChorusInference
import ChorusMesh
import ChorusProtocol
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
    /// `storeDirectory`: where the executor keeps its store (its inference records), when given.
    func pair(_ backend: ScriptedInferenceBackendForTests, settings: InferenceService.Settings = .init(), storeDirectory: String? = nil)
        async throws -> (a: NodeHarnessForTests, b: NodeHarnessForTests) {
        let a = try await NodeHarnessForTests()
        let b = try await NodeHarnessForTests(configuration: NodeHarnessForTests.testConfiguration(seeds: [a.address]), storeDirectory: storeDirectory)
        await a.node.attachInference(local: nil, settings: settings)
        await b.node.attachInference(local: backend, settings: settings)
        #expect(await eventually { await a.node.connectedPeers == [b.key.publicKey] })
        return (a, b)
    }

    /// Reads a forwarded request's events as the gateway does: answers the executor's canonical
    /// request with a ticket signed by `gateway`, gathers the text, and returns the last event
    /// with the ticket it issued.
    func collect(_ events: AsyncStream<InferenceService.RemoteEvent>, id: Bytes32, gateway: Node) async
        -> (text: String, last: InferenceService.RemoteEvent?, issued: IssuedTicket?) {
        var text = ""
        var last: InferenceService.RemoteEvent?
        var issued: IssuedTicket?
        for await event in events {
            switch event {
            case let .delta(d): text += d.text
            case let .prepared(request):
                guard let ticket = try? await gateway.issueTicket(for: request) else { continue }
                issued = ticket
                await gateway.sendTicket(id, ticket)
            default: last = event
            }
        }
        return (text, last, issued)
    }

    @Test func aForwardedJobStreamsBackAndEnds() async throws {
        let backend = ScriptedInferenceBackendForTests(pieces: ["The ", "capital ", "is ", "Paris."])
        let dir = temporaryDirectory("inference-records")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (a, b) = try await pair(backend, storeDirectory: dir)
        defer { Task { await a.shutdown(); await b.shutdown() } }
        let id = SecureRandom.bytes32()
        let events = try #require(await a.node.forwardInference(id, Self.job, to: b.key.publicKey))
        let (text, last, issued) = await collect(events, id: id, gateway: a.node)
        #expect(text == "The capital is Paris.")
        guard case let .end(finish, receipt, output, stopEnd)? = last, let issued else {
            Issue.record("ended with \(String(describing: last))")
            return
        }
        #expect(finish == .length && receipt.receipt.promptTokens == 3 && output.count == 4)
        // The receipt is the executor's, over the gateway's ticket, and binds exactly the ids sent.
        try issued.check(receipt, from: b.key.publicKey, output: output, stopSequenceEnd: stopEnd)
        #expect(receipt.receipt.finish == .length && receipt.receipt.seed == issued.seed)
        #expect(await eventually { await b.node.inferences(epoch: nil, limit: 10).map(\.receiptID) == [receipt.id] })
        #expect(await a.node.inferenceReport()?.pending == 0)
        #expect(await eventually { await b.node.inferenceReport()?.served == 0 })
    }

    /// Runs one forwarded request from `a` to `b` and returns the record the gateway keeps.
    func served(by b: NodeHarnessForTests, via a: NodeHarnessForTests) async throws -> InferenceRecord {
        let id = SecureRandom.bytes32()
        let events = try #require(await a.node.forwardInference(id, Self.job, to: b.key.publicKey))
        let (_, last, issued) = await collect(events, id: id, gateway: a.node)
        guard case let .end(_, receipt, output, stopEnd)? = last, let issued else { throw CancellationError() }
        return InferenceRecord(roles: .gateway, request: issued.request, ticket: issued.ticket, gatewaySignature: issued.signature,
                               receipt: receipt, output: output, stopSequenceEnd: stopEnd, recordedAtMs: 0)
    }

    /// Members of the model's group re-run what a gateway announces (Specs/inference.md §6-7): a
    /// validator whose model agrees finds no flips and records `valid`; one whose model disagrees
    /// at every position records `invalid`; neither checks what it cannot verify.
    @Test func groupMembersRecheckAnnouncedInferences() async throws {
        let pieces = ["The ", "capital ", "is ", "Paris."]
        let (a, b) = try await pair(ScriptedInferenceBackendForTests(pieces: pieces))
        let dirs = [temporaryDirectory("validator-c"), temporaryDirectory("validator-d")]
        defer { for d in dirs { try? FileManager.default.removeItem(atPath: d) } }
        var validators: [NodeHarnessForTests] = []
        for (dir, flips) in zip(dirs, [Set<Int>(), Set([0, 1, 2, 3])]) {
            var configuration = NodeHarnessForTests.testConfiguration(seeds: [a.address])
            configuration.servedModels = ["scripted"]
            let v = try await NodeHarnessForTests(configuration: configuration, storeDirectory: dir)
            await v.node.attachInference(local: ScriptedInferenceBackendForTests(pieces: pieces, flipsAt: flips))
            validators.append(v)
        }
        let started = validators
        defer { Task { await a.shutdown(); await b.shutdown(); for v in started { await v.shutdown() } } }
        #expect(await eventually { await a.node.connectedPeers.count == 3 })
        let record = try await served(by: b, via: a)
        await a.node.announce(record, to: validators.map(\.key.publicKey) + [b.key.publicKey])
        for (v, valid) in zip(validators, [true, false]) {
            #expect(await eventually { await v.node.inferences(epoch: nil, limit: 10).first?.check != nil })
            let check = try #require(await v.node.inferences(epoch: nil, limit: 10).first?.check)
            #expect(check.positions == 4 && check.flips == (valid ? 0 : 4) && check.valid == valid)
            #expect(await v.node.inferenceReport()?.checksRun == 1)
        }
        // The executor never checks its own inference (it was not even sent one).
        #expect(await a.node.inferenceReport()?.announced == 2)
        // A tampered announcement (output ids that the receipt does not bind) is not checked.
        var forged = record
        forged.output[0] += 1
        await a.node.announce(forged, to: [validators[0].key.publicKey])
        #expect(await eventually { await validators[0].node.inferenceReport()?.announcementsInvalid == 1 })
        #expect(await validators[0].node.inferenceReport()?.checksRun == 1)
    }

    /// A member runs at most `maxPendingChecks` checks at once; announcements beyond are dropped.
    @Test func checksABoundedNumberAtOnce() async throws {
        var settings = InferenceService.Settings()
        settings.maxPendingChecks = 2
        let (a, b) = try await pair(ScriptedInferenceBackendForTests(pieces: ["x"]))
        var configuration = NodeHarnessForTests.testConfiguration(seeds: [a.address])
        configuration.servedModels = ["scripted"]
        let v = try await NodeHarnessForTests(configuration: configuration)
        let held = ScriptedInferenceBackendForTests(pieces: ["x"], held: true)
        await v.node.attachInference(local: held, settings: settings)
        defer { Task { await a.shutdown(); await b.shutdown(); await v.shutdown() } }
        #expect(await eventually { await a.node.connectedPeers.count == 2 })
        for _ in 0..<5 { await a.node.announce(try await served(by: b, via: a), to: [v.key.publicKey]) }
        #expect(await eventually { await v.node.inferenceReport()?.announcementsDropped == 3 })
        #expect(held.rechecks == 2)
        held.release()
        #expect(await eventually { await v.node.inferenceReport()?.checksRun == 2 })
    }

    /// Past `maxServedPerPeer` jobs for one gateway the executor answers 503 at once; the held
    /// ones finish once released.
    @Test func anExecutorBoundsTheJobsOfOneGateway() async throws {
        var settings = InferenceService.Settings()
        settings.maxServedPerPeer = 2
        let backend = ScriptedInferenceBackendForTests(pieces: ["x"], held: true)
        let (a, b) = try await pair(backend, settings: settings)
        defer { Task { await a.shutdown(); await b.shutdown() } }
        var streams: [(Bytes32, AsyncStream<InferenceService.RemoteEvent>)] = []
        for _ in 0..<3 {
            let id = SecureRandom.bytes32()
            streams.append((id, try #require(await a.node.forwardInference(id, Self.job, to: b.key.publicKey))))
        }
        let refused = await collect(streams[2].1, id: streams[2].0, gateway: a.node)
        guard case let .error(error)? = refused.last else { Issue.record("expected a refusal, got \(String(describing: refused.last))"); return }
        #expect(error.status == 503 && error.message.contains("limit"))
        #expect(backend.started <= 2)
        backend.release()
        for (id, stream) in streams.prefix(2) {
            guard case .end? = await collect(stream, id: id, gateway: a.node).last else { Issue.record("a held job did not end"); return }
        }
    }

    @Test func aCancelStopsTheExecutorsJob() async throws {
        let backend = ScriptedInferenceBackendForTests(pieces: Array(repeating: "tok ", count: 5_000), pace: .milliseconds(2))
        let (a, b) = try await pair(backend)
        defer { Task { await a.shutdown(); await b.shutdown() } }
        let id = SecureRandom.bytes32()
        let events = try #require(await a.node.forwardInference(id, Self.job, to: b.key.publicKey))
        for await event in events {
            if case let .prepared(request) = event { await a.node.sendTicket(id, try await a.node.issueTicket(for: request)) }
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
        let id = SecureRandom.bytes32()
        let events = try #require(await a.node.forwardInference(id, Self.job, to: b.key.publicKey))
        guard case .timedOut? = await collect(events, id: id, gateway: a.node).last else { Issue.record("expected a timeout"); return }
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
        let dir = temporaryDirectory("inference-records")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try await NodeHarnessForTests(configuration: configuration, storeDirectory: dir)
        defer { Task { await a.shutdown() } }
        let backend = ScriptedInferenceBackendForTests(pieces: ["ok"])
        await a.node.attachInference(local: backend)
        let mesh = MeshInferenceBackend(node: a.node, local: backend)
        #expect(try await mesh.models() == ["scripted"])
        let outcome = try await mesh.run(Self.job, limits: APILimits()) { _ in true }
        #expect(outcome.completionTokens == 1)
        // Without a final table a ticket names epoch 0 (no beacon yet); no other epoch is taken.
        #expect(await a.node.beacon(epoch: 0) == .zero)
        #expect(await a.node.beacon(epoch: 1) == nil)
        // Served under a ticket like a routed request: its receipt is recorded once, with both roles.
        #expect(await eventually { await a.node.inferences(epoch: nil, limit: 10).count == 1 })  // the store writes off the loop
        let records = await a.node.inferences(epoch: nil, limit: 10)
        #expect(records.count == 1 && records.first?.roles == [.executor, .gateway])
        #expect(outcome.receiptID == records.first?.receiptID.hex && outcome.requestID == records.first?.ticket.requestID.hex)
        do {
            _ = try await mesh.run(InferenceJob(model: "other", input: .text("x")), limits: APILimits()) { _ in true }
            Issue.record("expected model_not_found")
        } catch {
            #expect(error.status == 404 && error.message.contains("scripted"))
        }
    }
}

@Suite struct InferenceMessageTests {
    static let gateway = try! Ed25519.SigningKey(seed: SecretBytes([UInt8](repeating: 0x11, count: 32)))
    static let executor = try! Ed25519.SigningKey(seed: SecretBytes([UInt8](repeating: 0x22, count: 32)))

    /// A ticket of `gateway` for a 3-token prompt, max 3 tokens, with stop sequence "\n".
    static func issued() throws -> IssuedTicket {
        let request = try InferenceRequest(model: "m", promptTokens: [1, 2, 3], maxTokens: 3, stopSequences: ["\n"])
        let ticket = try InferenceTicket(networkID: "n", epoch: 4, gateway: gateway.publicKey, nonce: 9, issuedAtMs: 1, requestDigest: request.digest)
        return IssuedTicket(request: request, ticket: ticket, signature: try ticket.sign(with: gateway), beacon: Blake2b.hash256([1]))
    }

    static func receipt(_ issued: IssuedTicket, output: [UInt32], finish: InferenceFinish, seed: Bytes32? = nil,
                        by key: Ed25519.SigningKey = executor) throws -> SignedInferenceReceipt {
        try InferenceReceipt(request: issued.request, ticket: issued.ticket, seed: seed ?? issued.seed, executor: key.publicKey,
                             output: output, finish: finish, startedAtMs: 5, firstTokenMs: 1, totalMs: 2).sign(with: key)
    }

    @Test func everyKindRoundTrips() throws {
        let id = Blake2b.hash256(Array("id".utf8))
        let issued = try Self.issued()
        let receipt = try Self.receipt(issued, output: [5, 6, 7], finish: .stop)
        let messages: [InferenceMessage] = [
            .request(id: id, job: InferenceJob(model: "m", input: .chat([.init(role: "user", content: "héllo")]), maxTokens: 5,
                                               temperature: 0.7, topP: 0.9, topK: 40, stop: ["\n"], topLogprobs: 2)),
            .request(id: id, job: InferenceJob(model: "m", input: .text("p"))),
            .delta(id: id, CompletionDelta(text: "Par", logprobs: [TokenLogprob(token: "Par", logprob: -0.25, top: [.init(token: "Lon", logprob: -2)])])),
            .prepared(id: id, issued.request),
            .ticket(id: id, issued.ticket, signature: issued.signature),
            .end(id: id, finish: .stop, receipt: receipt, output: [5, 6, 7], stopSequenceEnd: 2),
            .announce(id: receipt.id, InferenceRecord(roles: [], request: issued.request, ticket: issued.ticket, gatewaySignature: issued.signature,
                                                      receipt: receipt, output: [5, 6, 7], stopSequenceEnd: 2, recordedAtMs: 0)),
            .error(id: id, .overloaded("busy")),
            .cancel(id: id),
        ]
        for m in messages {
            #expect(try InferenceMessage.decode(m.encoded()[...]) == m)
        }
    }

    /// The gateway's check (Specs/inference.md §5.1): an honest receipt passes; one that claims
    /// more tokens than were sent (`truncate`), another tape (`wrong-seed`), another executor than
    /// the one drawn, or a stop that did not happen is refused.
    @Test func theGatewayRefusesReceiptsThatDoNotBindWhatWasSent() throws {
        let issued = try Self.issued()
        let honest = try Self.receipt(issued, output: [5, 6, 7], finish: .length)
        try issued.check(honest, from: Self.executor.publicKey, output: [5, 6, 7], stopSequenceEnd: nil)
        let truncated = try Self.receipt(issued, output: [5, 6, 7], finish: .length)
        #expect(throws: ProtocolError.self) { try issued.check(truncated, from: Self.executor.publicKey, output: [5, 6], stopSequenceEnd: nil) }
        let wrongSeed = try Self.receipt(issued, output: [5, 6, 7], finish: .length, seed: Blake2b.hash256([2]))
        #expect(throws: ProtocolError.self) { try issued.check(wrongSeed, from: Self.executor.publicKey, output: [5, 6, 7], stopSequenceEnd: nil) }
        #expect(throws: ProtocolError.self) { try issued.check(honest, from: Self.gateway.publicKey, output: [5, 6, 7], stopSequenceEnd: nil) }
        let fakeStop = try Self.receipt(issued, output: [5, 6], finish: .stop)
        #expect(throws: ProtocolError.self) { try issued.check(fakeStop, from: Self.executor.publicKey, output: [5, 6], stopSequenceEnd: nil) }
        try issued.check(fakeStop, from: Self.executor.publicKey, output: [5, 6], stopSequenceEnd: 1)
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
