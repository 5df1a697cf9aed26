import Agent
import AgentTestSupport
import Config
import Foundation
import Health
import Logging
import TestSupport
import Testing

/// /ready, /health, /api/v1/status and `beetlewatch check` over real HTTP, in each state.
@Suite(.serialized, .timeLimit(.minutes(1)), .tags(.endToEnd)) struct ReadinessEndToEndTests {
    /// - Parameter canary: whether the agent asks the cluster to commit (the default's); off, readiness follows the
    ///   replicas' evidence alone.
    func agent(addresses: [String], require: ReadinessRequirement = .quorum, canary: Bool = false) throws -> Agent {
        try TestAgent.start(watching: false) {
            $0.tigerBeetleCluster = "0"
            $0.tigerBeetleAddresses = addresses
            $0.probeInterval = .milliseconds(100)
            $0.probeTimeout = .milliseconds(500)
            $0.readyRequire = require
            $0.canaryEnabled = canary
            $0.canaryInterval = .milliseconds(200)
            $0.canaryTimeout = .milliseconds(500)
        }.agent
    }

    func check(_ agent: Agent) throws -> Int32 {
        try BeetlewatchBinary.run(["check", "--url", "http://127.0.0.1:\(agent.webPort)/ready"]).status
    }

    /// An agent watching three fake replicas, fed the recorded capture, and ready.
    func readyAgent() async throws -> (Agent, [FakeReplica]) {
        let listeners = FakeReplica.cluster(3)
        let agent = try agent(addresses: listeners.map(\.address))
        try await TestAgent.sendCapture(to: agent)
        _ = try await ready(agent, becomes: 200)
        return (agent, listeners)
    }

    /// Waits until /ready answers `status`.
    func ready(
        _ agent: Agent, becomes status: Int, within seconds: Double = 10, where condition: (String) -> Bool = { _ in true }
    ) async throws -> HTTPTestClient.Reply {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let reply = try await HTTPTestClient.request("http://127.0.0.1:\(agent.webPort)/ready")
            if (reply.status == status && condition(reply.body)) || Date() > deadline { return reply }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test func readinessFollowsTheCluster() async throws {
        let listeners = FakeReplica.cluster(3)
        defer { listeners.forEach { $0.close() } }
        let agent = try agent(addresses: listeners.map(\.address))
        defer { agent.stop() }
        let base = "http://127.0.0.1:\(agent.webPort)"

        // Before any StatsD: waiting, 503, check exits 1.
        let waiting = try await HTTPTestClient.request(base + "/ready")
        #expect(waiting.status == 503)
        #expect(waiting.body.contains("waiting for"), "\(waiting.body)")
        #expect(try check(agent) == 1)
        #expect(try await HTTPTestClient.request(base + "/health").status == 200)

        // The capture (all three replicas normal, connected) and reachable ports: ready.
        try await TestAgent.sendCapture(to: agent)
        let healthy = try await ready(agent, becomes: 200)
        #expect(healthy.status == 200, "\(healthy.body)")
        #expect(healthy.body.hasPrefix("ready\ncluster 0 (00000000000000000000000000000000): quorum: 3 of 3 replicas healthy"))
        #expect(try check(agent) == 0)

        let status = try await HTTPTestClient.request(base + "/api/v1/status")
        #expect(status.headers["content-type"] == "application/json")
        let document = try JSONDecoder().decode(StatusDocument.self, from: Data(status.body.utf8))
        #expect(document.ready.ready)
        let cluster = try #require(document.health.cluster(String(repeating: "0", count: 32)))
        #expect(cluster.replicas.map(\.state) == [.healthy, .healthy, .healthy])
        #expect(cluster.highestView == 3)
        #expect(cluster.viewChanges == 2)
        #expect(cluster.replicas[1].probe?.success == true)
        #expect(cluster.replicas[1].commitMax != nil)
        // One time unit (Unix seconds) and URLs as written.
        #expect(!status.body.contains("\\/"), "escaped slashes")
        let raw = try JSONSerialization.jsonObject(with: Data(status.body.utf8)) as? [String: Any]
        let replica =
            ((((raw?["health"] as? [String: Any])?["clusters"] as? [[String: Any]])?.first?["replicas"] as? [[String: Any]])?.first)
        let probeAt = try #require((replica?["probe"] as? [String: Any])?["at"] as? Double)
        let lastSeen = try #require(replica?["lastSeen"] as? Double)
        let now = Date().timeIntervalSince1970
        #expect(abs(probeAt - now) < 60 && abs(lastSeen - now) < 60, "probe.at \(probeAt), lastSeen \(lastSeen): both seconds")

        // Two replicas' ports close: no quorum, 503 naming them, check exits 1.
        listeners[0].close()
        listeners[2].close()
        // Both read unreachable once their connections are reset. (A replica starved of a core under the whole suite
        // can be flagged hung just before; a hung session reconnects within 10 s.)
        let lost = try await ready(agent, becomes: 503, within: 15) { body in
            body.contains("replica 0 (\(listeners[0].address)): unreachable")
                && body.contains("replica 2 (\(listeners[2].address)): unreachable")
        }
        #expect(lost.status == 503)
        #expect(lost.body.contains("NO QUORUM: 1 of 3 replicas healthy (needs 2)"), "\(lost.body)")
        #expect(lost.body.contains("replica 0 (\(listeners[0].address)): unreachable"), "\(lost.body)")
        #expect(lost.body.contains("replica 2 (\(listeners[2].address)): unreachable"), "\(lost.body)")
        #expect(try check(agent) == 1)
        let json = try await HTTPTestClient.request(base + "/ready?format=json")
        #expect(json.status == 503)
        #expect(json.headers["content-type"] == "application/json")
        let verdict = try JSONDecoder().decode(ReadinessVerdict.self, from: Data(json.body.utf8))
        #expect(!verdict.ready)
        #expect(verdict.lines.count == 3)

        let metrics = PrometheusText.samples(try await HTTPTestClient.request(base + "/metrics").body)
        #expect(metrics["tigerbeetle_cluster_quorum{cluster=\"00000000000000000000000000000000\"}"] == 0)
        #expect(metrics["tigerbeetle_replica_state{cluster=\"00000000000000000000000000000000\",replica=\"0\",state=\"unreachable\"}"] == 1)
        #expect(
            metrics[
                "tigerbeetle_probe_success{address=\"\(listeners[1].address)\",cluster=\"00000000000000000000000000000000\",replica=\"1\"}"]
                == 1)
    }

    @Test func requireAllDemandsEveryReplica() async throws {
        let listeners = FakeReplica.cluster(2)
        defer { listeners.forEach { $0.close() } }
        let agent = try agent(addresses: listeners.map(\.address) + ["127.0.0.1:\(LoopbackListener.closedPort())"], require: .all)
        defer { agent.stop() }
        try await TestAgent.sendCapture(to: agent)
        // Wait until every replica has been probed (2 reachable, 1 refused).
        let reply = try await Poll.until(
            within: 10, every: .milliseconds(50),
            look: { try await HTTPTestClient.request("http://127.0.0.1:\(agent.webPort)/ready", accept: "application/json") },
            done: { $0.body.contains("quorum: 2 of 3") })
        #expect(reply.status == 503)
        let verdict = try JSONDecoder().decode(ReadinessVerdict.self, from: Data(reply.body.utf8))
        #expect(verdict.require == .all)
        #expect(verdict.lines[0].contains("quorum: 2 of 3"), "\(verdict.lines)")
    }

    @Test func checkExitsTwoWhenTheAgentCannotBeReached() throws {
        let result = try BeetlewatchBinary.run([
            "check", "--url", "http://127.0.0.1:\(LoopbackListener.closedPort())/ready", "--timeout", "2",
        ])
        #expect(result.status == 2)
        #expect(result.stderr.contains("cannot reach beetlewatch"), "\(result.stderr)")
    }

    @Test func statusPrintsATable() async throws {
        let (agent, listeners) = try await readyAgent()
        defer {
            agent.stop()
            listeners.forEach { $0.close() }
        }
        let status = try BeetlewatchBinary.run(["status", "--url", "http://127.0.0.1:\(agent.webPort)/api/v1/status"])
        let text = status.stdout
        #expect(status.status == 0)
        #expect(text.hasPrefix("READY (require quorum)"), "\(text)")
        #expect(text.contains("REPLICA  ADDRESS"))
        #expect(text.contains("view 3, 2 view changes seen"))
        for listener in listeners { #expect(text.contains(listener.address)) }
    }

    /// `check` and `status` take the agent's base URL or the endpoint's, and only beetlewatch's own document
    /// counts: an index page's 200 once let `check --url http://host:9917` exit 0 during a quorum loss.
    @Test func checkAndStatusTakeEveryURLFormAndRefuseAnyOtherAnswer() async throws {
        let (agent, listeners) = try await readyAgent()
        defer {
            agent.stop()
            listeners.forEach { $0.close() }
        }
        let base = "http://127.0.0.1:\(agent.webPort)"
        let forms = [base, base + "/", base + "/ready", base + "/ready?format=json", "http://localhost:\(agent.webPort)"]
        for url in forms {
            let result = try BeetlewatchBinary.run(["check", "--url", url])
            #expect(result.status == 0 && result.stdout.hasPrefix("ready\n"), "\(url): \(result.status) \(result.stdout) \(result.stderr)")
        }
        for url in [base, base + "/", base + "/api/v1/status"] {
            let result = try BeetlewatchBinary.run(["status", "--url", url])
            #expect(result.status == 0 && result.stdout.hasPrefix("READY"), "\(url): \(result.stderr)")
            #expect(result.stdout.contains("ALERTS"), "the alerts, from the same base: \(result.stdout)")
        }

        listeners[0].close()
        listeners[2].close()
        _ = try await ready(agent, becomes: 503)
        for url in forms {
            let result = try BeetlewatchBinary.run(["check", "--url", url])
            #expect(result.status == 1 && result.stdout.contains("NO QUORUM"), "\(url): \(result.status) \(result.stdout)")
        }
        #expect(try BeetlewatchBinary.run(["status", "--url", base]).status == 1)
        // The agent itself is up, whatever the cluster: what a container's own health check asks.
        for url in [base, base + "/health"] {
            let live = try BeetlewatchBinary.run(["check", "--live", "--url", url])
            #expect(live.status == 0 && live.stdout == "alive\n", "\(url): \(live.stderr)")
        }
        // Waiting for quorum (an init container): still not ready after 3 s, exits 1.
        let started = Date()
        let waited = try BeetlewatchBinary.run(["check", "--url", base, "--wait", "3"])
        #expect(waited.status == 1 && Date().timeIntervalSince(started) >= 3)

        // Not beetlewatch's answers: another of its pages, and another server's 200.
        let other = WebhookRecorder()
        defer { other.close() }
        for url in [base + "/health", base + "/metrics", "http://127.0.0.1:\(other.port)", "http://127.0.0.1:\(other.port)/ready"] {
            let check = try BeetlewatchBinary.run(["check", "--url", url])
            #expect(check.status == 2, "\(url): \(check.status) \(check.stdout)")
            #expect(check.stderr.contains("not beetlewatch's readiness") && check.stderr.contains("answered"), "\(check.stderr)")
            let status = try BeetlewatchBinary.run(["status", "--url", url])
            #expect(status.status == 2 && status.stderr.contains("not beetlewatch's status document"), "\(url): \(status.stderr)")
        }
        let elsewhere = try BeetlewatchBinary.run(["check", "--live", "--url", "http://127.0.0.1:\(other.port)"])
        #expect(elsewhere.status == 2 && elsewhere.stderr.contains("not beetlewatch's liveness"), "\(elsewhere.stderr)")
    }
}
