import Config
import Exposition
import Foundation
import Health
import MetricStore
import Synchronization
import Testing

@testable import Agent

/// Which page each path asks for, and the service-discovery document, on endpoints whose pages only say their scope.
@Suite struct PageRoutingTests {
    static let cluster = String(repeating: "0", count: 31) + "a"
    static let other = String(repeating: "f", count: 32)

    static func endpoints(clusters: [String] = [cluster, other]) -> AgentEndpoints {
        AgentEndpoints(
            metricsPage: { scope in
                let page = PageBuffer(capacity: 64)
                page.append("\(scope)")
                return page
            },
            pagedClusters: { clusters },
            listenAddress: { "agent-host:9917" },
            healthReport: { HealthReport(generatedAt: 0, clusters: []) },
            alerts: { [] },
            readyRequirement: { .all },
            history: { VerdictHistory() },
            version: "test",
            lifecycleEnabled: { false },
            reload: { .success(()) })
    }

    static func get(_ path: String, method: String = "GET", headers: [String: String] = [:]) -> HTTPResponse {
        endpoints().handle(HTTPRequest(method: method, path: path, headers: headers))
    }

    @Test func eachPathServesItsScope() {
        for (path, scope) in [
            ("/metrics", "all"), ("/metrics/agent", "unclustered"), ("/metrics/clusters/\(Self.cluster)", "cluster(\"\(Self.cluster)\")"),
        ] {
            let response = Self.get(path)
            #expect(response.status == 200, "\(path)")
            #expect("\(response.contentType)" == "text/plain; version=0.0.4; charset=utf-8")
            #expect(String(decoding: response.page?.bytes ?? [], as: UTF8.self) == scope, "\(path)")
            #expect(Self.get(path, method: "HEAD").status == 200)
            let post = Self.get(path, method: "POST")
            #expect(post.status == 405 && post.allow.map { "\($0)" } == "GET, HEAD", "\(path)")
        }
        #expect(Self.get("/api/v1/scrape-targets", method: "DELETE").status == 405)
    }

    @Test(arguments: [
        "/metrics/clusters/", "/metrics/clusters/a", "/metrics/clusters/" + String(repeating: "0", count: 31) + "A",
        "/metrics/clusters/" + String(repeating: "0", count: 33), "/metrics/clusters/\(cluster)/", "/metrics/clusters/../agent",
        "/metrics/clusters/" + String(repeating: "0", count: 31) + "g", "/metrics/clusters", "/metrics/agents",
    ])
    func anythingButAClusterIDIsNotFoundWithTheReason(_ path: String) {
        let response = Self.get(path)
        #expect(response.status == 404)
        if path.hasPrefix("/metrics/clusters/") {
            #expect(
                String(decoding: response.body, as: UTF8.self)
                    == "not found: a cluster's page is /metrics/clusters/<cluster id: 32 lowercase hex digits>\n")
        }
    }

    static func targets(_ response: HTTPResponse) throws -> [[String: Any]] {
        try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]])
    }

    @Test func theDocumentNamesOnePagePerClusterAndTheAgentsAtTheHostPrometheusUsed() throws {
        let response = Self.get("/api/v1/scrape-targets", headers: ["Host": "beetlewatch:9917"])
        #expect(response.status == 200)
        #expect("\(response.contentType)" == "application/json")
        let groups = try Self.targets(response)
        #expect(groups.map { $0["targets"] as? [String] } == Array(repeating: ["beetlewatch:9917"], count: 3))
        #expect(
            groups.map { $0["labels"] as? [String: String] } == [
                ["__metrics_path__": "/metrics/clusters/\(Self.cluster)", "beetlewatch_page": "clusters/\(Self.cluster)"],
                ["__metrics_path__": "/metrics/clusters/\(Self.other)", "beetlewatch_page": "clusters/\(Self.other)"],
                ["__metrics_path__": "/metrics/agent", "beetlewatch_page": "agent"],
            ])
        // Without a Host header (HTTP/1.0): the listen address.
        let bare = try Self.targets(Self.get("/api/v1/scrape-targets"))
        #expect(bare.first?["targets"] as? [String] == ["agent-host:9917"])
        // An agent with no cluster: the agent page alone.
        let none = try Self.targets(Self.endpoints(clusters: []).handle(HTTPRequest(method: "GET", path: "/api/v1/scrape-targets")))
        #expect(none.map { $0["labels"] as? [String: String] } == [["__metrics_path__": "/metrics/agent", "beetlewatch_page": "agent"]])
    }

    @Test func aHostHeaderThatNamesNoAddressIsABadRequest() {
        let response = Self.get("/api/v1/scrape-targets", headers: ["Host": "evil\"],\"labels\":{}"])
        #expect(response.status == 400)
        #expect(String(decoding: response.body, as: UTF8.self) == "the Host header's host is neither a hostname nor an IPv4 address\n")
    }

    @Test func theListenAddressNamesThisHostWhenItListensEverywhere() {
        #expect(Agent.scrapeAddress(HostPort(host: "0.0.0.0", port: 9917), port: 9917) == "\(Agent.hostname()):9917")
        #expect(Agent.scrapeAddress(HostPort(host: "10.0.0.5", port: 0), port: 40000) == "10.0.0.5:40000")
        #expect(Agent.scrapeAddress(HostPort(host: "::1", port: 9917), port: 9917) == "[::1]:9917")
    }
}
