import Alerting
import Exposition
import Foundation
import Health
import MetricStore
import StatusPage
import TigerBeetle

/// Routes the agent's HTTP endpoints. Rendering belongs to the pure modules;
/// this only picks the page and sets status and content type.
struct AgentEndpoints: HTTPHandler {
    /// A metrics page: all of it (`/metrics`), one cluster's part or the agent's (the rest).
    let metricsPage: @Sendable (PageScope) -> PageBuffer
    /// The clusters that get a page in the service-discovery document: configured and held, in tag form, sorted.
    let pagedClusters: @Sendable () -> [String]
    /// `host:port` of the web listener, for a service-discovery request without a `Host` header (HTTP/1.0).
    let listenAddress: @Sendable () -> String
    let healthReport: @Sendable () -> HealthReport
    let alerts: @Sendable () -> [Alert]
    let readyRequirement: @Sendable () -> ReadinessRequirement
    /// Every replica's recent verdicts (timelines and changes).
    let history: @Sendable () -> VerdictHistory
    let version: String
    /// Whether `--web.enable-lifecycle` is on (it can change on reload).
    let lifecycleEnabled: @Sendable () -> Bool
    let reload: @Sendable () -> Result<Void, ReloadRefusal>

    func handle(_ request: HTTPRequest) -> HTTPResponse {
        let route: () -> HTTPResponse
        switch request.path {
        case "/metrics":
            route = { Self.metrics(metricsPage(.all)) }
        case "/metrics/agent":
            route = { Self.metrics(metricsPage(.unclustered)) }
        case let path where path.hasPrefix(Self.clusterPagePrefix):
            let id = String(path.dropFirst(Self.clusterPagePrefix.count))
            guard ClusterID.isTagForm(id) else {
                return HTTPResponse(
                    status: 404, text: "not found: a cluster's page is /metrics/clusters/<cluster id: 32 lowercase hex digits>\n")
            }
            // A valid id the agent holds nothing for: 200 and an empty page (see docs/deployment.md, "A fleet").
            route = { Self.metrics(metricsPage(.cluster(id))) }
        case "/api/v1/scrape-targets":
            route = { scrapeTargets(request) }
        case "/health":
            route = {
                // JSON names the agent, so `beetlewatch check --live` knows it reached one.
                Self.wantsJSON(request) ? Self.json(Liveness(), status: 200) : HTTPResponse(status: 200, text: "ok\n")
            }
        case "/ready":
            route = { ready(request) }
        case "/api/v1/status":
            route = {
                let report = healthReport()
                let document = StatusDocument(ready: Readiness.evaluate(report, require: readyRequirement()), health: report)
                return Self.json(document, status: 200)
            }
        case "/api/v1/alerts":
            route = { Self.json(AlertsDocument(alerts()), status: 200) }
        case "/api/v1/events":
            route = { Self.json(EventsDocument(events: history().events.reversed()), status: 200) }
        case "/-/reload":
            return reloadRoute(request)
        case "/":
            route = {
                let report = healthReport()
                let status = StatusDocument(ready: Readiness.evaluate(report, require: readyRequirement()), health: report)
                let page = StatusPage.render(status: status, alerts: alerts(), history: history(), version: "beetlewatch \(version)")
                return HTTPResponse(status: 200, contentType: "text/html; charset=utf-8", body: Array(page.utf8))
            }
        default:
            return HTTPResponse(status: 404, text: "not found: \(request.path)\n")
        }
        guard request.method == "GET" || request.method == "HEAD" else {
            return HTTPResponse(
                status: 405, contentType: "text/plain; charset=utf-8",
                body: Array("method \(request.method) not allowed; use GET or HEAD\n".utf8), allow: "GET, HEAD")
        }
        return route()
    }

    static let clusterPagePrefix = "/metrics/clusters/"

    static func metrics(_ page: PageBuffer) -> HTTPResponse {
        HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", page: page)
    }

    /// The service-discovery document at the address in the request's `Host` header (400 when it names none), or
    /// at the listen address when there is no header.
    func scrapeTargets(_ request: HTTPRequest) -> HTTPResponse {
        let address: String
        if let host = request.header("Host") {
            switch ScrapeAddress.parse(host) {
            case .success(let valid): address = valid
            case .failure(let refusal): return HTTPResponse(status: 400, text: "\(refusal)\n")
            }
        } else {
            address = listenAddress()
        }
        return Self.json(ScrapeTargetsDocument(address: address, clusters: pagedClusters()), status: 200)
    }

    /// 200 when ready, 503 otherwise; plain text, or JSON when asked (`?format=json`, `Accept: application/json`).
    func ready(_ request: HTTPRequest) -> HTTPResponse {
        let verdict = Readiness.evaluate(healthReport(), require: readyRequirement())
        let status = verdict.ready ? 200 : 503
        return Self.wantsJSON(request) ? Self.json(verdict, status: status) : HTTPResponse(status: status, text: verdict.text)
    }

    static func wantsJSON(_ request: HTTPRequest) -> Bool {
        request.query("format") == "json" || (request.header("Accept")?.contains("application/json") ?? false)
    }

    /// As Prometheus: POST or PUT, 403 unless the lifecycle API is enabled, 500 with the reason when refused.
    func reloadRoute(_ request: HTTPRequest) -> HTTPResponse {
        guard request.method == "POST" || request.method == "PUT" else {
            return HTTPResponse(
                status: 405, contentType: "text/plain; charset=utf-8",
                body: Array("Only POST or PUT requests allowed\n".utf8), allow: "POST, PUT")
        }
        guard lifecycleEnabled() else {
            return HTTPResponse(status: 403, text: "Lifecycle API is not enabled (--web.enable-lifecycle).\n")
        }
        switch reload() {
        case .success: return HTTPResponse(status: 200, text: "config reloaded\n")
        case .failure(let refused): return HTTPResponse(status: 500, text: "failed to reload config: \(refused)\n")
        }
    }

    static func json(_ value: some Encodable, status: Int) -> HTTPResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            return HTTPResponse(status: status, contentType: "application/json", body: Array(try encoder.encode(value)) + [0x0A])
        } catch {
            return HTTPResponse(status: 500, text: "cannot encode JSON: \(error)\n")
        }
    }
}

/// `/api/v1/events`: the last changes of every replica's verdict, newest first (at most `VerdictHistory.maxEvents`).
struct EventsDocument: Encodable {
    var events: [VerdictHistory.Event]
}
