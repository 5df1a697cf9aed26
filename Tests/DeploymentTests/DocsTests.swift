import Agent
import AgentTestSupport
import Alerting
import Config
import Foundation
import Logging
import TestSupport
import Testing

func doc(_ path: String) throws -> String {
    try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent(path), encoding: .utf8)
}

@Suite(.serialized, .timeLimit(.minutes(1)), .tags(.endToEnd)) struct DocsTests {
    /// docs/deployment.md's bare-metal build is the one scripts/check-static-binary (run by scripts/test) builds and
    /// checks with ldd; the Dockerfile's too.
    @Test func theBareMetalBuildIsTheCheckedOne() throws {
        let command = "swift build -c release --product beetlewatch --static-swift-stdlib"
        #expect(try doc("docs/deployment.md").contains("`\(command)`"))
        #expect(try doc("scripts/check-static-binary").contains(command))
        #expect(try doc("scripts/test").contains("scripts/check-static-binary"))
        #expect(try doc("Dockerfile").contains("--static-swift-stdlib"))
    }

    /// Every metric on /metrics (a watched cluster fed the recorded capture, a receiver configured)
    /// is in docs/metrics.md's tables, and every one there is on the page.
    @Test func metricsReferenceMatchesThePage() async throws {
        let test = try TestAgent.start { $0.webhookURLs = ["http://127.0.0.1:\(LoopbackListener.closedPort())/"] }
        defer { test.stop() }
        let agent = test.agent
        try await test.sendCapture()
        let capture = try Fixtures.capture()
        // Wait for the capture, the probes, and the alert it raises (a view change seen).
        let page = try await HTTPTestClient.scrape(port: agent.webPort) {
            $0["beetlewatch_statsd_datagrams_total"] == Double(capture.count)
                && $0.keys.contains { $0.hasPrefix("beetlewatch_alert_active{") }
                && $0.keys.contains { $0.hasPrefix("tigerbeetle_probe_success{") }
        }
        let onPage = Set(PrometheusText.types(page).keys)
        let documented = Set(
            try doc("docs/metrics.md").split(separator: "\n").compactMap { line -> String? in
                guard line.hasPrefix("| `") else { return nil }
                return line.dropFirst(3).split(separator: "`").first.map(String.init)
            })
        #expect(onPage.count > 150)
        #expect(onPage.subtracting(documented).isEmpty, "not documented: \(onPage.subtracting(documented).sorted())")
        #expect(documented.subtracting(onPage).isEmpty, "documented but not exported: \(documented.subtracting(onPage).sorted())")
    }

    @Test func configurationReferenceCoversEverySetting() throws {
        let text = try doc("docs/configuration.md")
        let rows = text.split(separator: "\n").filter { $0.hasPrefix("| `--") }
        for setting in Setting.all {
            // The row is the setting's own, with the default `--help` prints (the runbook URL's is described).
            let row = rows.first { $0.hasPrefix("| `\(setting.flag)` | `\(setting.environmentVariable)` |") }
            #expect(row != nil, "\(setting.flag)")
            if let row, let defaultValue = setting.defaultValue, !defaultValue.hasPrefix("https://") {
                #expect(row.contains(" | `\(defaultValue)` | "), "\(row)")
            }
        }
        for section in ["tigerbeetle:\n  clusters:", "receivers:", "rules:"] { #expect(text.contains(section)) }
        // The README's shorter table, where it names a setting, gives the same default.
        for row in try doc("README.md").split(separator: "\n") where row.hasPrefix("| `--") {
            guard let setting = Setting.all.first(where: { row.hasPrefix("| `\($0.flag)` |") }), let defaultValue = setting.defaultValue,
                !defaultValue.hasPrefix("https://")
            else { continue }
            #expect(row.contains(" | `\(defaultValue)` | "), "README: \(row)")
        }
    }

    @Test func everyAlertHasARunbook() throws {
        let text = try doc("docs/alerts.md")
        for name in AlertName.allCases {
            #expect(text.contains("\n## \(name.rawValue)\n"), "\(name.rawValue)")
            #expect(text.contains("**Means.**") && text.contains("**Likely causes.**") && text.contains("**Do.**"))
        }
    }

    @Test func theReadmeLeadsToComposeWithMonitoring() throws {
        let readme = try doc("README.md")
        #expect(readme.contains("docker compose --profile monitoring up"))
        for file in [
            "docs/deployment.md", "docs/metrics.md", "docs/alerts.md", "docs/configuration.md", "docs/architecture.md",
            "docs/tigerbeetle-protocol.md",
        ] {
            #expect(readme.contains("](\(file))"), "the README links \(file)")
            #expect(FileManager.default.fileExists(atPath: Fixtures.repositoryRoot.appendingPathComponent(file).path), "\(file)")
        }
    }
}
