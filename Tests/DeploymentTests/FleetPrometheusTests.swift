import Agent
import AgentTestSupport
import Config
import Foundation
import TestSupport
import Testing
import Yams

/// A real Prometheus with the shipped fleet configuration (prometheus/prometheus-fleet.yml) finds beetlewatch's pages
/// through HTTP service discovery and scrapes each: one target per cluster and one for the agent.
@Suite(.serialized, .timeLimit(.minutes(2)), .tags(.endToEnd)) struct FleetPrometheusTests {
    static let second = String(repeating: "0", count: 31) + "2"
    static let third = String(repeating: "0", count: 31) + "3"

    /// The shipped fleet configuration, its discovery pointed at `agentPort`, every second, without rules or Alertmanager.
    static func fleetConfig(agentPort: UInt16) throws -> String {
        let path = Fixtures.repositoryRoot.appendingPathComponent("prometheus/prometheus-fleet.yml").path
        var config = try #require(try Yams.load(yaml: String(contentsOfFile: path, encoding: .utf8)) as? [String: Any])
        var jobs = try #require(config["scrape_configs"] as? [[String: Any]])
        try #require(jobs.count == 1)
        var discovery = try #require(jobs[0]["http_sd_configs"] as? [[String: Any]])
        try #require(discovery.count == 1 && (discovery[0]["url"] as? String)?.hasSuffix(":9917/api/v1/scrape-targets") == true)
        discovery[0]["url"] = "http://127.0.0.1:\(agentPort)/api/v1/scrape-targets"
        discovery[0]["refresh_interval"] = "1s"
        jobs[0]["http_sd_configs"] = discovery
        jobs[0]["scrape_interval"] = "1s"
        jobs[0]["scrape_timeout"] = "1s"
        config["scrape_configs"] = jobs
        config["rule_files"] = nil
        config["alerting"] = nil
        // YAML reads JSON, but not JSON's escaped slash.
        return String(decoding: try JSONSerialization.data(withJSONObject: config, options: .withoutEscapingSlashes), as: UTF8.self)
    }

    @Test func prometheusScrapesOneTargetPerClusterAndTheAgentFoundThroughDiscovery() async throws {
        // Cluster 0 watched (fake replicas answering) with the capture; two more clusters' replicas heard over StatsD.
        let test = try TestAgent.start()
        defer { test.stop() }
        try await test.sendCapture()
        try test.sendCaptureCycle(asClusters: [Self.second, Self.third])
        let port = test.agent.webPort
        _ = try await HTTPTestClient.scrape(port: port) { samples in
            [Self.second, Self.third].allSatisfy { samples["tigerbeetle_replica_commit_max{cluster=\"\($0)\",replica=\"2\"}"] != nil }
        }
        let prometheus = try PrometheusServer(config: try Self.fleetConfig(agentPort: port))
        defer { prometheus.stop() }

        let expected = Set([TestAgent.clusterHex, Self.second, Self.third].map { "clusters/\($0)" } + ["agent"])
        func pages(_ targets: [[String: Any]]) -> [String: String] {
            Dictionary(
                targets.compactMap { target in
                    ((target["labels"] as? [String: String])?["beetlewatch_page"]).map { ($0, target["health"] as? String ?? "?") }
                }, uniquingKeysWith: { a, _ in a })
        }
        let targets = try await Poll.until(
            within: 60, every: .milliseconds(250), look: { (try? await prometheus.activeTargets()) ?? [] },  // refused until it listens
            done: { targets in targets.count == expected.count && pages(targets).values.allSatisfy { $0 == "up" } })
        #expect(Set(pages(targets).keys) == expected)
        #expect(pages(targets).values.allSatisfy { $0 == "up" }, "\(targets)")
        for target in targets {
            let labels = try #require(target["labels"] as? [String: String])
            let page = try #require(labels["beetlewatch_page"])
            // One beetlewatch: the same instance for every page; the pages told apart by beetlewatch_page, never `cluster`.
            #expect(labels["instance"] == "127.0.0.1:\(port)" && labels["job"] == "beetlewatch" && labels["cluster"] == nil)
            #expect(target["scrapeUrl"] as? String == "http://127.0.0.1:\(port)/metrics/\(page)")
        }

        // Each cluster's series, with its own cluster label (not exported_cluster), from its page's target.
        let series = try await Poll.until(
            within: 30, every: .milliseconds(250), look: { (try? await prometheus.series("tigerbeetle_replica_commit_max")) ?? [] },
            done: { $0.count == 9 })
        #expect(series.count == 9, "three replicas of three clusters: \(series)")
        for labels in series {
            let cluster = try #require(labels["cluster"])
            #expect(labels["beetlewatch_page"] == "clusters/\(cluster)" && labels["instance"] == "127.0.0.1:\(port)", "\(labels)")
            #expect(labels.keys.allSatisfy { !$0.hasPrefix("exported_") }, "\(labels)")
        }
        #expect(try await prometheus.query("count({exported_cluster!=\"\"})").results == 0)
        #expect(try await prometheus.series("up").count == 4)
        // The agent's own series on the agent page; the shipped rules' stand-down join (on instance, job) reaches them
        // from a cluster page's series.
        let build = try await prometheus.series("beetlewatch_build_info")
        #expect(build.count == 1 && build.first?["beetlewatch_page"] == "agent")
        #expect(try await prometheus.query("tigerbeetle_replica_healthy and on (instance, job) beetlewatch_build_info").results == 9)
    }
}
