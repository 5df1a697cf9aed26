import MetricStore

/// Why a basic-auth login was refused; the raw value is the `reason` label.
public enum AuthFailure: String, Sendable, CaseIterable {
    case invalidCredentials = "invalid_credentials"
    /// Five failures from the address within 10 s: refused without a check.
    case throttled
    /// Another login was being checked.
    case busy
}

/// What the HTTP server and the prober count about themselves.
public struct ServerStats: Sendable, Equatable {
    /// Requests answered by the handlers, by status code.
    public var requests: [Int: UInt64] = [:]
    public var connectionsOpened: UInt64 = 0
    public var connectionsClosed: UInt64 = 0
    /// Requests refused 400 before their body for an ambiguous length (request smuggling).
    public var ambiguousRequests: UInt64 = 0
    /// Refused basic-auth logins, by reason.
    public var authFailures: [AuthFailure: UInt64] = [:]
    /// Probes not made because this process was out of file descriptors or memory (not the replica's fault).
    public var probeLocalErrors: UInt64 = 0

    public init() {}
}

/// beetlewatch's own HTTP server and prober, as Prometheus families.
public enum ServerMetrics {
    public static func families(_ stats: ServerStats) -> [StaticFamily] {
        [
            StaticFamily(
                name: "beetlewatch_http_requests_total", help: "HTTP requests answered, by status code.", type: .counter,
                samples: stats.requests.sorted { $0.key < $1.key }.map { (LabelSet([("code", String($0.key))]), Double($0.value)) }),
            StaticFamily(
                name: "beetlewatch_http_connections", help: "HTTP connections open now.", type: .gauge,
                value: Double(stats.connectionsOpened &- min(stats.connectionsClosed, stats.connectionsOpened))),
            StaticFamily(
                name: "beetlewatch_http_connections_total", help: "HTTP connections accepted.", type: .counter,
                value: Double(stats.connectionsOpened)),
            StaticFamily(
                name: "beetlewatch_http_ambiguous_requests_total",
                help: "Requests refused 400 for several Content-Length headers, or Content-Length with Transfer-Encoding.",
                type: .counter, value: Double(stats.ambiguousRequests)),
            StaticFamily(
                name: "beetlewatch_http_auth_failures_total",
                help:
                    "Basic-auth logins refused: invalid_credentials, throttled (too many failures from the address), busy (another login being checked).",
                type: .counter,
                samples: AuthFailure.allCases.map { (LabelSet([("reason", $0.rawValue)]), Double(stats.authFailures[$0] ?? 0)) }),
            StaticFamily(
                name: "beetlewatch_probe_local_errors_total",
                help: "Probes not made because beetlewatch itself was out of file descriptors or memory; the replica's last result stands.",
                type: .counter, value: Double(stats.probeLocalErrors)),
        ]
    }

    /// Names the store must not create.
    public static var reservedNames: Set<String> {
        var stats = ServerStats()
        stats.requests[200] = 0
        return Set(families(stats).flatMap(\.sampleNames))
    }
}
