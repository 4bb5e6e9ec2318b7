import ChorusAdmin
import ChorusCompute
import ChorusNode
import Foundation
import Testing

/// `/healthz` and `/readyz` on real nodes, and the listener's bounds: GET only, no body, a
/// limited number of requests at once.
@Suite struct AdminHealthTests {
    @Test(.timeLimit(.minutes(1))) func readyOnlyWithPeersAndHealthyWhileTheLoopRuns() async throws {
        var options = AdminServer.Options()
        options.lagBound = .milliseconds(300)
        options.nodeTimeout = .milliseconds(500)
        let a = try await AdminNodeForTests(options: options)
        let client = AdminClientForTests()
        defer { Task { await a.shutdown(); await client.shutdown() } }

        let health = try await client.get(a.admin.url, "/healthz")
        #expect(health.status == 200 && health.body.contains(#""status":"ok""#), "\(health.body)")
        // Alone: alive but not ready, and the answer names the check.
        let alone = try await client.get(a.admin.url, "/readyz")
        #expect(alone.status == 503)
        #expect(alone.body.contains(#""peers":"no peer session is established""#), "\(alone.body)")

        let b = try await AdminNodeForTests(seeds: [a.address])
        defer { Task { await b.shutdown() } }
        #expect(try await eventually { try await client.get(a.admin.url, "/readyz").status == 200 })

        // A loop busy for 3 s: /readyz cannot reach the node in time, /healthz (which never
        // enters the node) says the loop is stuck; both recover once it runs again.
        _ = a.loop.execute { usleep(3_000_000) }
        try await Task.sleep(for: .milliseconds(600))
        let stuck = try await client.get(a.admin.url, "/healthz")
        #expect(stuck.status == 503 && stuck.body.contains("the event loop"), "\(stuck.body)")
        let late = try await client.get(a.admin.url, "/readyz")
        #expect(late.status == 503 && late.body.contains("did not answer"), "\(late.body)")
        // The probe's next run measures the stall as lag; later runs clear it.
        #expect(try await eventually { try await client.get(a.admin.url, "/healthz").status == 200 })
        let scrape = try await client.get(a.admin.url, "/metrics")
        let total = try #require(scrape.value("\(NodeMetricNames.loopLag)_count"))
        let upToOneSecond = try #require(scrape.bucket(NodeMetricNames.loopLag, le: 1))
        #expect(total - upToOneSecond >= 1, "the stall is in the lag histogram above 1 s")

        await a.node.stop()
        let stopped = try await client.get(a.admin.url, "/healthz")
        #expect(stopped.status == 503 && stopped.body.contains("not running"), "\(stopped.body)")
    }

    /// A worker call that misses its deadline marks the worker unhealthy: /readyz says so; the
    /// next call that succeeds makes the node ready again.
    @Test(.timeLimit(.minutes(1))) func notReadyWhileTheWorkerIsUnhealthy() async throws {
        let a = try await AdminNodeForTests()
        let b = try await AdminNodeForTests(seeds: [a.address])
        let client = AdminClientForTests()
        defer { Task { await a.shutdown(); await b.shutdown(); await client.shutdown() } }
        #expect(try await eventually { try await client.get(a.admin.url, "/readyz").status == 200 })
        // Attached now, so the link's own health poll (every 5 s) cannot run between the checks below.
        let link = WorkerLink(api: WorkerService(), endpoint: "in-process")
        await a.node.attachPoC(worker: link, artifacts: nil)
        _ = try? await link.call("a slow call", timeout: .milliseconds(10)) { _ in try await Task.sleep(for: .seconds(1)) }
        let sick = try await client.get(a.admin.url, "/readyz")
        #expect(sick.status == 503 && sick.body.contains(#""worker":"the worker is unhealthy"#), "\(sick.body)")
        let scrape = try await client.get(a.admin.url, "/metrics")
        #expect(scrape.value(NodeMetricNames.workerHealthy) == 0 && scrape.value(NodeMetricNames.workerFailures) == 1)
        _ = try await link.call("state") { try await $0.state() }
        #expect(try await client.get(a.admin.url, "/readyz").status == 200)
    }

    /// Table `e` is final in epoch `e`'s tally stage: one epoch behind is caught up, two is not;
    /// epoch 1 has nothing to be final yet.
    @Test func epochsCaughtUpRule() {
        #expect(NodeReadiness.epochProblem(current: 1, lastFinal: nil) == nil)
        #expect(NodeReadiness.epochProblem(current: 2, lastFinal: 1) == nil)
        #expect(NodeReadiness.epochProblem(current: 5, lastFinal: 5) == nil)
        #expect(NodeReadiness.epochProblem(current: 2, lastFinal: nil)?.contains("no final weight table") == true)
        #expect(NodeReadiness.epochProblem(current: 7, lastFinal: 4)?.contains("3 behind") == true)
    }

    /// Connections past `maxConnections` are closed unread; once one closes, a new one is served.
    @Test(.timeLimit(.minutes(1))) func closesConnectionsBeyondTheLimit() async throws {
        var options = AdminServer.Options()
        options.maxConnections = 3
        let a = try await AdminNodeForTests(options: options)
        defer { Task { await a.shutdown() } }
        let port = try #require(Int(a.admin.url.split(separator: ":").last!))
        var held = try (0..<3).map { _ in try RawConnectionForTests(port: port) }
        for connection in held { #expect(await connection.get("/healthz").hasPrefix("HTTP/1.1 200")) }
        let extra = try RawConnectionForTests(port: port)
        #expect(await extra.get("/healthz") == "", "a fourth connection is closed before it is answered")
        held.removeFirst().close()
        #expect(try await eventually {
            let next = try RawConnectionForTests(port: port)
            defer { next.close() }
            return await next.get("/healthz").hasPrefix("HTTP/1.1 200")
        })
        held.forEach { $0.close() }
        extra.close()
    }

    @Test func servesGetOnlyWithoutBodiesOnItsPaths() async throws {
        let a = try await AdminNodeForTests()
        let client = AdminClientForTests()
        defer { Task { await a.shutdown(); await client.shutdown() } }
        for path in ["/metrics", "/", "/status.json"] {
            let post = try await client.get(a.admin.url, path, method: .POST)
            #expect(post.status == 405 && post.body.contains("GET only"), "\(path)")
            let withBody = try await client.get(a.admin.url, path, body: String(repeating: "x", count: 10_000))
            #expect(withBody.status == 413 && withBody.body.contains("no request body"), "\(path)")
        }
        let unknown = try await client.get(a.admin.url, "/status")
        #expect(unknown.status == 404 && unknown.body.contains("/, /status.json, /metrics, /healthz and /readyz"))
    }

    /// More requests than `maxInFlight` while the node cannot answer: the extra one is refused
    /// at once instead of waiting in line.
    @Test(.timeLimit(.minutes(1))) func refusesRequestsBeyondTheInFlightLimit() async throws {
        var options = AdminServer.Options()
        options.maxInFlight = 4
        options.nodeTimeout = .milliseconds(4500)
        let a = try await AdminNodeForTests(options: options)
        let client = AdminClientForTests()
        defer { Task { await a.shutdown(); await client.shutdown() } }
        _ = a.loop.execute { usleep(5_000_000) }
        let url = a.admin.url
        let waiting = (0..<4).map { _ in Task { try await client.get(url, "/readyz") } }
        #expect(await eventually(timeout: .seconds(4)) { a.admin.requestsInFlight == 4 })
        let extra = try await client.get(url, "/readyz")
        #expect(extra.status == 503 && extra.body.contains("too many admin requests"), "\(extra.body)")
        for task in waiting { #expect(try await task.value.status == 503) }
        #expect(try await eventually { try await client.get(url, "/readyz").body.contains("peers") })
    }
}
