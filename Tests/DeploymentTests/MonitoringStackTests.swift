import Agent
import AgentTestSupport
import Alerting
import Config
import Foundation
import Logging
import TestSupport
import Testing
import Yams

/// A real Prometheus (Debian's `prometheus`) on loopback, scraping a target every second.
final class PrometheusServer {
    let port: UInt16
    let process: TestProcess
    let directory: URL

    convenience init(target: String, ruleFile: String) throws {
        try self.init(jobs: [("beetlewatch", target, "")], ruleFile: ruleFile)
    }

    /// - Parameters:
    ///   - jobs: name, target, and YAML lines added to the scrape config (indented 4 spaces).
    ///   - alerting: an `alerting:` section (YAML), e.g. pointing at a test Alertmanager.
    ///   - scrapeInterval: how often it scrapes (it evaluates its rules every second).
    ///   - arguments: more command-line flags.
    convenience init(
        jobs: [(name: String, target: String, options: String)], ruleFile: String?, alerting: String = "",
        scrapeInterval: String = "1s", arguments: [String] = []
    ) throws {
        let config = """
            global:
              scrape_interval: \(scrapeInterval)
              evaluation_interval: 1s
            rule_files: [\(ruleFile.map { "\"\($0)\"" } ?? "")]
            \(alerting)
            scrape_configs:

            """
            + jobs.map { job in
                "  - job_name: \(job.name)\n    static_configs: [{targets: [\"\(job.target)\"]}]\n" + job.options
            }.joined()
        try self.init(config: config, arguments: arguments)
    }

    /// A Prometheus with this configuration file (YAML, or JSON, which YAML reads).
    init(config: String, arguments: [String] = []) throws {
        let binary = try #require(
            ["/usr/bin/prometheus"].first { FileManager.default.isExecutableFile(atPath: $0) },
            "prometheus not installed: scripts/test installs it")
        port = LoopbackListener.closedPort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("beetlewatch-prom-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try config.write(to: directory.appendingPathComponent("prometheus.yml"), atomically: true, encoding: .utf8)
        process = TestProcess(
            binary,
            [
                "--config.file=\(directory.path)/prometheus.yml", "--storage.tsdb.path=\(directory.path)/data",
                "--web.listen-address=127.0.0.1:\(port)",
            ] + arguments)
        process.process.standardOutput = FileHandle.nullDevice
        process.process.standardError = FileHandle.nullDevice
        try process.start()
    }

    /// An instant query's results: each series' labels.
    func series(_ expression: String) async throws -> [[String: String]] {
        let results = ((try await answer(expression)?["data"] as? [String: Any])?["result"] as? [[String: Any]]) ?? []
        return results.compactMap { $0["metric"] as? [String: String] }
    }

    /// `/api/v1/targets`: the active targets.
    func activeTargets() async throws -> [[String: Any]] {
        let body = try await HTTPTestClient.request("http://127.0.0.1:\(port)/api/v1/targets?state=active").body
        let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        return ((object?["data"] as? [String: Any])?["activeTargets"] as? [[String: Any]]) ?? []
    }

    /// An instant query: (status, number of results).
    func query(_ expression: String) async throws -> (status: String, results: Int, error: String?) {
        let object = try await answer(expression)
        let results = ((object?["data"] as? [String: Any])?["result"] as? [Any])?.count ?? 0
        return (object?["status"] as? String ?? "?", results, object?["error"] as? String)
    }

    /// An instant query's first value.
    func value(_ expression: String) async throws -> Double? {
        let first = ((try await answer(expression)?["data"] as? [String: Any])?["result"] as? [[String: Any]])?.first
        return ((first?["value"] as? [Any])?.last as? String).flatMap(Double.init)
    }

    /// The JSON answer of `/api/v1/query` for `expression`.
    private func answer(_ expression: String) async throws -> [String: Any]? {
        var components = URLComponents(string: "http://127.0.0.1:\(port)/api/v1/query")!
        components.queryItems = [URLQueryItem(name: "query", value: expression)]
        // URLComponents leaves "+" alone, which a server reads as a space.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        let body = try await HTTPTestClient.request(components.url!.absoluteString).body
        return try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
    }

    func stop() {
        process.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}

/// prometheus/prometheus.yml's `alerting:` section, sending to a test Alertmanager instead.
func shippedAlerting(alertmanagerPort: UInt16) throws -> String {
    let path = Fixtures.repositoryRoot.appendingPathComponent("prometheus/prometheus.yml").path
    let shipped = try Yams.load(yaml: String(contentsOfFile: path, encoding: .utf8)) as? [String: Any]
    var alerting = try #require(shipped?["alerting"] as? [String: Any])
    alerting["alertmanagers"] = [["static_configs": [["targets": ["127.0.0.1:\(alertmanagerPort)"]]]]]
    // YAML reads JSON.
    return "alerting: " + String(decoding: try JSONSerialization.data(withJSONObject: alerting), as: UTF8.self) + "\n"
}

/// The dashboard's queries with Grafana's variables filled in.
func dashboardQueries() throws -> [(panel: String, expr: String)] {
    let url = Fixtures.repositoryRoot.appendingPathComponent("grafana/dashboards/tigerbeetle.json")
    let dashboard = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    let panels = try #require(dashboard["panels"] as? [[String: Any]])
    return panels.flatMap { panel in
        ((panel["targets"] as? [[String: Any]]) ?? []).compactMap { target in
            (target["expr"] as? String).map {
                (
                    panel["title"] as? String ?? "?",
                    $0.replacingOccurrences(of: "$cluster", with: ".*").replacingOccurrences(of: "$__rate_interval", with: "1m")
                )
            }
        }
    }
}

/// The metric names an expression refers to.
func metricNames(in expression: String) throws -> Set<String> {
    let regex = try Regex("(tigerbeetle|beetlewatch)_[a-z0-9_]+")
    return Set(expression.matches(of: regex).map { String(expression[$0.range]) })
}

@Suite(.serialized, .timeLimit(.minutes(2)), .tags(.endToEnd, .wallClock)) struct MonitoringStackTests {
    /// A real Prometheus scrapes beetlewatch over TLS with basic auth, configured as for any exporter
    /// with exporter-toolkit's web config; a wrong password leaves the target down.
    @Test func prometheusScrapesOverTLSWithBasicAuth() async throws {
        let tls = try TestCertificate.make()
        defer { tls.remove() }
        // libxcrypt's bcrypt of "test".
        let webConfig = try tls.write(
            "web.yml",
            """
            tls_server_config: {cert_file: server.crt, key_file: server.key}
            basic_auth_users: {prometheus: $2b$10$nGi9UEC9RZGeA6grybjC3.hplMREc6eWQ8PgjofB4UAQ9ew4s4gAK}
            """)
        let good = try tls.write("good.password", "test")
        let bad = try tls.write("bad.password", "guess")
        let test = try TestAgent.start(watching: false) { $0.webConfigFile = webConfig }
        defer { test.stop() }
        let target = "localhost:\(test.agent.webPort)"
        func options(_ passwordFile: String) -> String {
            "    scheme: https\n    tls_config: {ca_file: \(tls.certificatePath)}\n    basic_auth: {username: prometheus, password_file: \(passwordFile)}\n"
        }
        let prometheus = try PrometheusServer(
            jobs: [("secured", target, options(good)), ("wrong-password", target, options(bad))], ruleFile: nil)
        defer { prometheus.stop() }
        var up = 0
        for _ in 0..<120 where up == 0 {
            try await Task.sleep(for: .milliseconds(250))
            up =
                (try? await prometheus.query("up{job=\"secured\"} == 1 and on() count(beetlewatch_build_info{job=\"secured\"}) == 1"))?
                .results ?? 0
        }
        #expect(up == 1, "Prometheus scraped beetlewatch over TLS with basic auth")
        // Its first scrape may come after the good job's.
        var refused = 0
        for _ in 0..<40 where refused == 0 {
            refused = (try? await prometheus.query("up{job=\"wrong-password\"} == 0"))?.results ?? 0
            if refused == 0 { try await Task.sleep(for: .milliseconds(250)) }
        }
        #expect(refused == 1, "a wrong password is refused")
    }

    /// Alertmanager keeps one state per label set, and Prometheus re-sends a resolved alert for 15 minutes: a
    /// copy of Prometheus's with the labels of one beetlewatch pushes, resolved in an earlier incident, closed
    /// beetlewatch's new one (seen on a live cluster when the shipped prometheus.yml blanked instance and job).
    /// With the shipped files, Prometheus's copy keeps its instance and job, and beetlewatch's incident stays open.
    @Test func anEarlierIncidentsResolutionFromPrometheusCannotCloseBeetlewatchsNewOne() async throws {
        let root = Fixtures.repositoryRoot
        let alertmanager = try AlertmanagerProcess(receiverURL: "http://127.0.0.1:\(LoopbackListener.closedPort())/")
        defer { alertmanager.stop() }
        // Scraped by Prometheus, not pushing: Prometheus's rules alert for it.
        let scraped = try TestAgent.start { $0.alertRules.settings[.viewChanged]?.enabled = false }
        defer { scraped.stop() }
        // Pushing, for the same cluster's replica 0 (heard over StatsD only).
        let pushing = try TestAgent.start(watching: false) { $0.alertmanagerURLs = [alertmanager.url] }
        defer { pushing.stop() }
        let prometheus = try PrometheusServer(
            jobs: [("beetlewatch", "127.0.0.1:\(scraped.agent.webPort)", "")],
            ruleFile: root.appendingPathComponent("prometheus/alerts.yml").path,
            alerting: try shippedAlerting(alertmanagerPort: alertmanager.port),
            arguments: ["--rules.alert.resend-delay=1s"])
        defer { prometheus.stop() }
        try await scraped.sendCapture()
        func active() async throws -> [[String: String]] {
            let body = try await HTTPTestClient.request(
                alertmanager.url + "/api/v2/alerts?filter=alertname%3D%22TigerBeetleReplicaStatusAbnormal%22"
            ).body
            let alerts = (try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [[String: Any]]) ?? []
            return alerts.compactMap { $0["labels"] as? [String: String] }
        }
        func waitFor(_ what: String, _ condition: ([[String: String]]) -> Bool) async throws {
            let seen = try await Poll.until(within: 30, every: .milliseconds(250), look: active, done: condition)
            try #require(condition(seen), "timed out waiting for \(what)")
        }
        // The earlier incident, through Prometheus: fires, then resolves (and is re-sent resolved every second).
        try scraped.send("tb.replica_status:3|g|#cluster:\(TestAgent.clusterHex),replica:0")
        try await waitFor("Prometheus's copy") { $0.count == 1 }
        let prometheusCopy = try await active()[0]
        #expect(prometheusCopy["instance"] == "127.0.0.1:\(scraped.agent.webPort)" && prometheusCopy["job"] == "beetlewatch")
        try scraped.send("tb.replica_status:0|g|#cluster:\(TestAgent.clusterHex),replica:0")
        try await waitFor("its resolution") { $0.isEmpty }
        // The new incident, pushed by beetlewatch: it stays open through Prometheus's re-sent resolutions.
        try pushing.send("tb.replica_status:3|g|#cluster:\(TestAgent.clusterHex),replica:0")
        try await waitFor("beetlewatch's alert") { $0.count == 1 }
        for _ in 0..<20 {
            try await Task.sleep(for: .milliseconds(250))
            let now = try await active()
            #expect(now.count == 1 && now[0]["instance"] == nil, "beetlewatch's incident is open: \(now)")
        }
    }

    /// Every replica executes every committed request, so the request-rate panel takes the busiest replica, not the
    /// sum over replicas (which showed 3× the commits). Over the capture's first 80 s (three replicas, healthy, under
    /// load), the panel's aggregation of the request counters equals the commits a replica made.
    @Test func theRequestRatePanelCountsEachRequestOnce() async throws {
        let test = try TestAgent.start()
        defer { test.stop() }
        let capture = try Fixtures.capture()
        let sender = try StatsDSender(to: HostPort(host: "127.0.0.1", port: test.agent.statsdPort))
        let first = try #require(capture.first?.time)
        let sent = capture.filter { $0.time - first <= 80 }
        for datagram in sent { try sender.send(Array(datagram.text.utf8)) }
        _ = try await HTTPTestClient.scrape(port: test.agent.webPort) { $0["beetlewatch_statsd_datagrams_total"] == Double(sent.count) }
        let prometheus = try PrometheusServer(jobs: [("beetlewatch", "127.0.0.1:\(test.agent.webPort)", "")], ruleFile: nil)
        defer { prometheus.stop() }
        var scraped = 0
        for _ in 0..<120 where scraped == 0 {
            try await Task.sleep(for: .milliseconds(250))
            scraped = (try? await prometheus.query("count(tigerbeetle_replica_commit_max) == 3"))?.results ?? 0
        }
        let panel = try #require(try dashboardQueries().first { $0.panel == "Request rate by operation" })
        // The panel's aggregation over the counters themselves (a rate is their change over time).
        let totals = panel.expr.replacingOccurrences(of: "rate(", with: "(").replacingOccurrences(of: "[1m]", with: "")
        let requests = try #require(try await prometheus.value("sum(\(totals))"))
        let commits = try #require(try await prometheus.value("max(tigerbeetle_replica_commit_max)"))
        let summed = try #require(try await prometheus.value("sum(tigerbeetle_replica_request_seconds_count)"))
        print(
            "dashboard: \(Int(requests)) requests by the panel's aggregation, \(Int(commits)) commits, \(Int(summed)) summed over replicas")
        #expect(abs(requests / commits - 1) < 0.05, "\(requests) requests against \(commits) commits")
        #expect(summed / commits > 2.5, "the sum over replicas counts each request about three times")
    }

    /// The panels an operator asked for are there, laid out without overlap, and the alert table lists alerts.
    @Test func theDashboardHasWhatAnOperatorAskedFor() throws {
        let url = Fixtures.repositoryRoot.appendingPathComponent("grafana/dashboards/tigerbeetle.json")
        let dashboard = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        let titles = panels.compactMap { $0["title"] as? String }
        for wanted in [
            "Clock delta", "Storage faults", "Sync stage (0 = not syncing)", "Replica lag (ops behind the cluster's highest commit_max)",
            "Pipeline queue", "Client connections", "Checkpoint", "Storage read latency", "Storage write latency",
            "TigerBeetle releases", "beetlewatch", "About these numbers", "Active alerts",
        ] {
            #expect(titles.contains(wanted), "\(wanted)")
        }
        #expect(Set(panels.compactMap { $0["id"] as? Int }).count == panels.count, "unique ids")
        let boxes = panels.compactMap { $0["gridPos"] as? [String: Int] }
        #expect(boxes.count == panels.count)
        for (i, a) in boxes.enumerated() {
            #expect(a["x"]! + a["w"]! <= 24)
            for b in boxes[(i + 1)...] {
                let apart =
                    a["x"]! + a["w"]! <= b["x"]! || b["x"]! + b["w"]! <= a["x"]! || a["y"]! + a["h"]! <= b["y"]!
                    || b["y"]! + b["h"]! <= a["y"]!
                #expect(apart, "\(a) overlaps \(b)")
            }
        }
        let queries = try dashboardQueries()
        #expect(queries.first { $0.panel == "Active alerts" }?.expr == "beetlewatch_alert_active")
        let annotations = ((dashboard["annotations"] as? [String: Any])?["list"] as? [[String: Any]]) ?? []
        #expect(annotations.contains { ($0["expr"] as? String)?.contains("tigerbeetle_replica_start_timestamp_seconds") == true })
    }

    @Test func everyPanelAndRuleGetsDataFromARealPrometheus() async throws {
        // Alerting configured as in a deployment (the receiver is down: notifications fail, and are counted). The view
        // changes in the capture keep TigerBeetleViewChanged firing through the test, for the alert panels.
        let test = try TestAgent.start {
            $0.webhookURLs = ["http://127.0.0.1:\(LoopbackListener.closedPort())/"]
            $0.alertRules.settings[.viewChanged]?.window = .seconds(600)
        }
        defer { test.stop() }
        let agent = test.agent
        try await test.sendCapture()

        let rules = Fixtures.repositoryRoot.appendingPathComponent("prometheus/alerts.yml").path
        let prometheus = try PrometheusServer(target: "127.0.0.1:\(agent.webPort)", ruleFile: rules)
        defer { prometheus.stop() }
        // Enough scrapes for rate() over the capture's counters.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let scrapes = try? await prometheus.query("count_over_time(beetlewatch_statsd_lines_total[1m]) >= 4"), scrapes.results > 0 {
                break
            }
            try await Task.sleep(for: .milliseconds(250))
        }

        let queries = try dashboardQueries()
        #expect(queries.count >= 25)
        for (panel, expr) in queries {
            let result = try await prometheus.query(expr)
            #expect(result.status == "success", "\(panel): \(expr): \(result.error ?? "")")
            #expect(result.results > 0, "panel \"\(panel)\" gets no data: \(expr)")
        }

        // Every metric a rule refers to exists; every rule evaluates without error.
        let alerts = try String(contentsOfFile: rules, encoding: .utf8)
        let referenced = try metricNames(in: alerts)
        #expect(referenced.count >= 12)
        for name in referenced.sorted() {
            let result = try await prometheus.query("count({__name__=\"\(name)\"})")
            #expect(result.results > 0, "alerts.yml refers to \(name), which beetlewatch does not export")
        }
        let rulesBody = try await HTTPTestClient.request("http://127.0.0.1:\(prometheus.port)/api/v1/rules").body
        let groups =
            (((try JSONSerialization.jsonObject(with: Data(rulesBody.utf8)) as? [String: Any])?["data"] as? [String: Any])?["groups"]
                as? [[String: Any]]) ?? []
        let evaluated = groups.flatMap { ($0["rules"] as? [[String: Any]]) ?? [] }
        #expect(evaluated.count == AlertName.allCases.count + 3, "the TigerBeetle rules and 3 about beetlewatch itself")
        for rule in evaluated {
            #expect(rule["health"] as? String == "ok", "\(rule["name"] ?? "?"): \(rule["lastError"] ?? "")")
        }
    }
}
