import Agent
import AgentTestSupport
import Config
import Foundation
import Health
import Logging
import MetricStore
import StatsD
import TestSupport
import Testing

/// An agent on ephemeral loopback ports, watching no cluster.
func startAgent(mode: NamingMode = .tigerbeetle) throws -> Agent {
    try TestAgent.start(watching: false) { $0.statsdMapping = mode }.agent
}

@Suite(.serialized, .timeLimit(.minutes(1)), .tags(.endToEnd)) struct AgentEndToEndTests {
    /// The recorded capture over real UDP, scraped over real HTTP: every series the
    /// capture implies, with its exact value and labels, and no parse error.
    @Test(arguments: [NamingMode.tigerbeetle, .statsdExporter])
    func recordedCaptureEndToEnd(_ mode: NamingMode) async throws {
        let agent = try startAgent(mode: mode)
        defer { agent.stop() }
        let capture = try Fixtures.capture()
        let sender = try StatsDSender(to: HostPort(host: "127.0.0.1", port: agent.statsdPort))
        for datagram in capture { try sender.send(Array(datagram.text.utf8)) }

        let page = try await HTTPTestClient.scrape(port: agent.webPort) {
            $0["beetlewatch_statsd_datagrams_total"] == Double(capture.count)
        }
        let samples = PrometheusText.samples(page)
        #expect(samples["beetlewatch_statsd_datagrams_total"] == 1580)
        #expect(samples["beetlewatch_statsd_lines_total"] == 19710)
        #expect(samples["beetlewatch_statsd_udp_receive_drops_total"] == 0)
        #expect(samples["beetlewatch_statsd_queue_dropped_datagrams_total"] == 0)
        let parseErrors = samples.filter { $0.key.hasPrefix("beetlewatch_statsd_parse_errors_total{") }
        #expect(parseErrors.count == ParseError.allCases.count)
        #expect(parseErrors.values.allSatisfy { $0 == 0 })

        let prefix = mode == .tigerbeetle ? "tigerbeetle_" : "tb_"
        let expected = CaptureOracle.expectedSeries(
            datagrams: capture.map(\.text),
            mode: mode == .tigerbeetle ? .tigerbeetle : .statsdExporter)
        // The health model's own tigerbeetle_* families are not from the capture's lines.
        let health = HealthMetrics.reservedNames
        let actual = samples.filter { $0.key.hasPrefix(prefix) && !health.contains(String($0.key.prefix { $0 != "{" })) }
        let missing = Set(expected.keys).subtracting(actual.keys)
        let extra = Set(actual.keys).subtracting(expected.keys)
        #expect(missing.isEmpty, "missing: \(missing.sorted().prefix(10))")
        #expect(extra.isEmpty, "unexpected: \(extra.sorted().prefix(10))")
        for (key, value) in expected {
            #expect(actual[key].map { PrometheusText.close($0, value) } == true, "\(key): got \(actual[key] ?? .nan), want \(value)")
        }
        // Tags such as command:ping and peer:replica come through as labels, exactly.
        let status = mode == .tigerbeetle ? "tigerbeetle_replica_status" : "tb_replica_status"
        #expect(samples["\(status){cluster=\"00000000000000000000000000000000\",replica=\"1\"}"] == 0)
        let connections = mode == .tigerbeetle ? "tigerbeetle_message_bus_connections" : "tb_message_bus_connections"
        #expect(samples["\(connections){cluster=\"00000000000000000000000000000000\",peer=\"replica\",replica=\"1\"}"] == 2)
        #expect(actual.keys.contains { $0.contains("command=\"ping\"") })
    }

    @Test func malformedLinesAreCountedAndNeighboursKept() async throws {
        let agent = try startAgent()
        defer { agent.stop() }
        let sender = try StatsDSender(to: HostPort(host: "127.0.0.1", port: agent.statsdPort))
        try sender.send(Array("good:1|c\nbad\ngood:2|c\nx:NaN|g\n".utf8) + [0xFF, 0x3A, 0x31, 0x7C, 0x63] + Array("\ngood:3|c".utf8))
        let samples = PrometheusText.samples(try await HTTPTestClient.scrape(port: agent.webPort) { $0["good"] == 6 })
        #expect(samples["good"] == 6)
        #expect(samples["beetlewatch_statsd_parse_errors_total{reason=\"malformed_line\"}"] == 1)
        #expect(samples["beetlewatch_statsd_parse_errors_total{reason=\"invalid_value\"}"] == 1)
        #expect(samples["beetlewatch_statsd_parse_errors_total{reason=\"invalid_utf8\"}"] == 1)
    }

    @Test func endpoints() async throws {
        let agent = try startAgent()
        defer { agent.stop() }
        let base = "http://127.0.0.1:\(agent.webPort)"
        let metrics = try await HTTPTestClient.request(base + "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
        #expect(metrics.body.contains("# TYPE beetlewatch_build_info gauge"))
        let head = try await HTTPTestClient.request(base + "/metrics", method: "HEAD")
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
        let health = try await HTTPTestClient.request(base + "/health")
        #expect(health.status == 200)
        let index = try await HTTPTestClient.request(base + "/")
        #expect(index.status == 200)
        #expect(index.body.contains("href=\"/metrics\""))
        #expect(index.headers["content-type"]?.hasPrefix("text/html") == true)
        let missing = try await HTTPTestClient.request(base + "/nope")
        #expect(missing.status == 404)
        let post = try await HTTPTestClient.request(base + "/metrics", method: "POST")
        #expect(post.status == 405)
        #expect(post.headers["allow"] == "GET, HEAD")
        let delete = try await HTTPTestClient.request(base + "/health", method: "DELETE")
        #expect(delete.status == 405)
    }

    @Test func aBusyAddressFailsToStart() throws {
        let agent = try startAgent()
        defer { agent.stop() }
        var config = AgentConfig()
        config.statsdListenUDP = HostPort(host: "127.0.0.1", port: 0)
        config.webListenAddress = HostPort(host: "127.0.0.1", port: agent.webPort)
        #expect(throws: (any Error).self) { _ = try Agent(config: config, logger: Logger(label: "test")) }
    }
}
