import Agent
import AgentTestSupport
import Foundation
import TestSupport
import Testing

/// The status page at `/` in a real browser (Debian's chromium, headless), as a person sees it.
@Suite(.serialized, .timeLimit(.minutes(2)), .tags(.endToEnd)) struct StatusPageBrowserTests {
    /// The capture replayed into an agent watching three replicas: the page shows them healthy with quorum; one
    /// replica's port closes and the next load (the page reloads itself every 5 s) shows it unreachable, with why.
    @Test(.tags(.wallClock)) func aReplicaTurningUnreachableAppearsWithinOneRefresh() async throws {
        let test = try TestAgent.start()
        defer { test.stop() }
        try await test.sendCapture()
        let url = "http://127.0.0.1:\(test.agent.webPort)/"
        _ = try await HTTPTestClient.scrape(port: test.agent.webPort) {
            $0["tigerbeetle_cluster_quorum{cluster=\"\(TestAgent.clusterHex)\"}"] == 1
        }

        let healthy = try HeadlessChromium.dom(url)
        #expect(healthy.contains("<title>ready · beetlewatch</title>"), "\(healthy.prefix(400))")
        #expect(
            (0..<3).allSatisfy { rowOf($0, in: healthy).contains("<span class=\"state healthy\">healthy</span>") }, "three healthy replicas"
        )
        #expect(healthy.contains("3 of 3 replicas healthy"))
        #expect(healthy.contains("canary: commits, last"), "the canary's line")
        #expect(healthy.contains("<svg class=\"timeline\""))

        let closed = Date()
        test.listeners[1].close()
        var seen: Date?
        var page = ""
        while seen == nil, Date().timeIntervalSince(closed) < 5 {
            page = try HeadlessChromium.dom(url)
            if page.contains("id=\"replica-\(TestAgent.clusterHex)-1\"") && rowOf(1, in: page).contains("state unreachable") {
                seen = Date()
            }
        }
        let after = try #require(seen, "replica 1 unreachable within one 5 s refresh:\n\(rowOf(1, in: page))")
        // What failed, in words: its open connection reset, or (once that is retried) the connect refused.
        let row = rowOf(1, in: page)
        #expect(
            row.contains("TCP connect to \(test.listeners[1].address) failed")
                || row.contains("\(test.listeners[1].address): the replica closed the connection"), "\(row)")
        #expect(page.contains("<strong>NOT READY</strong>") == false, "two of three still make quorum")
        print(
            "status page: replica 1 unreachable on the page \(String(format: "%.1f", after.timeIntervalSince(closed))) s after its port closed"
        )

        // It renders: a screenshot of it is a real PNG.
        let shot = FileManager.default.temporaryDirectory.appendingPathComponent("beetlewatch-status-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(at: shot) }
        try HeadlessChromium.screenshot(url, to: shot)
        let png = try Data(contentsOf: shot)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 10_000, "\(png.count) bytes")
    }

    func rowOf(_ replica: Int, in page: String) -> String {
        guard let start = page.range(of: "id=\"replica-\(TestAgent.clusterHex)-\(replica)\"") else { return "" }
        let rest = page[start.upperBound...]
        return String(rest[..<(rest.range(of: "</tr>")?.lowerBound ?? rest.endIndex)])
    }
}
