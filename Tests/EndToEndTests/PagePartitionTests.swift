import Agent
import AgentTestSupport
import Config
import Foundation
import TestSupport
import Testing

/// The fleet's pages (`/metrics/clusters/<id>` per cluster the service-discovery document lists, `/metrics/agent`)
/// are `/metrics` cut into parts: every sample on exactly one page, with the value `/metrics` shows.
@Suite(.serialized, .timeLimit(.minutes(1)), .tags(.endToEnd)) struct PagePartitionTests {
    static let second = String(repeating: "0", count: 31) + "1"
    static let third = "c0ffee" + String(repeating: "0", count: 25) + "7"

    /// The sample lines of a page: name and labels → value.
    static func samples(_ page: String) -> [String: String] {
        var samples: [String: String] = [:]
        for line in page.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            samples[String(line[..<space])] = String(line[line.index(after: space)...])
        }
        return samples
    }

    struct Look {
        var before: [String: String] = [:]
        var after: [String: String] = [:]
        var pages: [String: [String: String]] = [:]
        var paths: [String] = []
        var clusterPage = ""

        /// Sample keys on more than one page, and those on /metrics but on no page or the reverse.
        var onTwoPages: [String] {
            var seen: [String: Int] = [:]
            for page in pages.values { for key in page.keys { seen[key, default: 0] += 1 } }
            return seen.filter { $0.value > 1 }.keys.sorted()
        }
        var missing: [String] { Set(after.keys).subtracting(pages.values.flatMap(\.keys)).sorted() }
        var extra: [String] { Set(pages.values.flatMap(\.keys)).subtracting(after.keys).sorted() }
        /// Samples whose value held still across the look but differs on their page.
        var differing: [String] {
            pages.values.flatMap { page in
                page.compactMap { key, value in before[key] == after[key] && after[key] != nil && after[key] != value ? key : nil }
            }.sorted()
        }
        var holds: Bool {
            Set(before.keys) == Set(after.keys) && onTwoPages.isEmpty && missing.isEmpty && extra.isEmpty && differing.isEmpty
        }
    }

    @Test func theClusterPagesAndTheAgentPageAreExactlyMetrics() async throws {
        // Cluster 0 watched (three fake replicas answering pings) and fed the capture; two more heard over StatsD only.
        let test = try TestAgent.start()
        defer { test.stop() }
        try await test.sendCapture()
        var sent = try Fixtures.capture().count + test.sendCaptureCycle(asClusters: [Self.second, Self.third])
        let sender = try StatsDSender(to: HostPort(host: "127.0.0.1", port: test.agent.statsdPort))
        // Other senders' series: without a cluster label, and one with a cluster tag but no replica tag.
        for line in ["app.requests:1|c|#route:home", "app.queue_depth:5|g", "tb.custom:1|g|#cluster:\(Self.second)"] {
            try sender.send(Array(line.utf8))
            sent += 1
        }
        let port = test.agent.webPort
        _ = try await HTTPTestClient.scrape(port: port) { $0["beetlewatch_statsd_datagrams_total"] == Double(sent) }

        func get(_ path: String) async throws -> String {
            let reply = try await HTTPTestClient.request("http://127.0.0.1:\(port)\(path)")
            try #require(reply.status == 200, "\(path): \(reply.status) \(reply.body)")
            return reply.body
        }
        // Own metrics move between scrapes (requests counted, probes timed): look until a look holds, or time is up.
        let look = try await Poll.until(
            within: 20,
            look: { () async throws -> Look in
                var look = Look()
                look.before = Self.samples(try await get("/metrics"))
                let document = try #require(
                    try JSONSerialization.jsonObject(with: Data(try await get("/api/v1/scrape-targets").utf8)) as? [[String: Any]])
                for group in document {
                    let path = try #require((group["labels"] as? [String: String])?["__metrics_path__"])
                    #expect(group["targets"] as? [String] == ["127.0.0.1:\(port)"])
                    look.paths.append(path)
                    let page = try await get(path)
                    if path.hasSuffix(Self.third) { look.clusterPage = page }
                    look.pages[path] = Self.samples(page)
                }
                look.after = Self.samples(try await get("/metrics"))
                return look
            }, done: \.holds)
        #expect(
            look.paths == [TestAgent.clusterHex, Self.second, Self.third].map { "/metrics/clusters/\($0)" } + ["/metrics/agent"])
        #expect(look.onTwoPages.isEmpty, "on two pages: \(look.onTwoPages)")
        #expect(look.missing.isEmpty, "on no page: \(look.missing)")
        #expect(look.extra.isEmpty, "not on /metrics: \(look.extra)")
        #expect(look.differing.isEmpty, "another value than /metrics: \(look.differing)")
        // Each page holds what it says: its cluster's StatsD and health series, the agent's without a cluster label.
        #expect(look.after.count > 1000)
        for (path, page) in look.pages {
            if let id = path.split(separator: "/").last, path.hasPrefix("/metrics/clusters/") {
                #expect(page.keys.allSatisfy { $0.contains("cluster=\"\(id)\"") }, "\(path)")
                #expect(page.keys.contains { $0.hasPrefix("tigerbeetle_replica_commit_max{") }, "\(path)")
                #expect(page.keys.contains { $0.hasPrefix("tigerbeetle_replica_state{") }, "\(path)")
            } else {
                #expect(page.keys.allSatisfy { !$0.contains("cluster=\"") }, "\(path)")
                #expect(page["app_queue_depth"] == "5" && page.keys.contains("beetlewatch_statsd_datagrams_total"))
            }
        }
        // Probes only for the watched cluster's page.
        #expect(
            look.pages["/metrics/clusters/\(TestAgent.clusterHex)"]?.keys.contains { $0.hasPrefix("tigerbeetle_probe_success{") } == true)
        #expect(look.pages["/metrics/clusters/\(Self.third)"]?.keys.contains { $0.hasPrefix("tigerbeetle_probe_success{") } == false)
        let lint = try Promtool.checkMetrics(look.clusterPage)
        #expect(lint.status == 0 && lint.output.isEmpty, "\(lint.output)")

        // A cluster the agent holds nothing for: an empty page, not an error.
        let unknown = try await HTTPTestClient.request("http://127.0.0.1:\(port)/metrics/clusters/\(String(repeating: "e", count: 32))")
        #expect(unknown.status == 200 && unknown.body.isEmpty)
    }
}
