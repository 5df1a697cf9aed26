import Exposition
import MetricStore

/// Routes the agent's HTTP endpoints. Rendering belongs to the pure modules;
/// this only picks the page and sets status and content type.
struct AgentEndpoints: HTTPHandler {
    let metricsPage: @Sendable () -> [UInt8]

    static let indexPage = """
        <!DOCTYPE html>
        <html><head><meta charset="utf-8"><title>beetlewatch</title></head>
        <body>
        <h1>beetlewatch</h1>
        <p>StatsD collector and health agent for TigerBeetle.</p>
        <ul>
        <li><a href="/metrics">/metrics</a>: Prometheus metrics</li>
        <li><a href="/health">/health</a>: liveness of the agent itself</li>
        </ul>
        </body></html>

        """

    func handle(_ request: HTTPRequest) -> HTTPResponse {
        let route: () -> HTTPResponse
        switch request.path {
        case "/metrics":
            route = { HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: metricsPage()) }
        case "/health":
            route = { HTTPResponse(status: 200, text: "ok\n") }
        case "/":
            route = { HTTPResponse(status: 200, contentType: "text/html; charset=utf-8", body: Array(Self.indexPage.utf8)) }
        default:
            return HTTPResponse(status: 404, text: "not found: \(request.path)\n")
        }
        guard request.method == "GET" || request.method == "HEAD" else {
            return HTTPResponse(status: 405, contentType: "text/plain; charset=utf-8",
                                body: Array("method \(request.method) not allowed; use GET or HEAD\n".utf8), allow: "GET, HEAD")
        }
        return route()
    }
}
