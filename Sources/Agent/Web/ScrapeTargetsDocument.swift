/// `/api/v1/scrape-targets`: Prometheus's HTTP service discovery (`http_sd_configs`) document for a fleet, one target
/// group per cluster page (`/metrics/clusters/<id>`) and one for the agent page (`/metrics/agent`), all at the
/// address Prometheus reached beetlewatch by. Together the pages are `/metrics`, each series on exactly one.
///
/// Every group keeps Prometheus's default `instance` (the address, the same for all, as with one `/metrics` target:
/// the shipped rules join beetlewatch's own series to TigerBeetle's `on (instance, job)`) and has a label of its own,
/// `beetlewatch_page`, that tells the targets apart (`up` per page). No target label is called `cluster`: Prometheus
/// would rename the scraped `cluster` label to `exported_cluster`, even when the values are equal.
struct ScrapeTargetsDocument: Encodable {
    /// The label that tells the pages apart: `clusters/<id>` or `agent`.
    static let pageLabel = "beetlewatch_page"

    struct TargetGroup: Encodable, Equatable {
        var targets: [String]
        var labels: [String: String]
    }

    var groups: [TargetGroup]

    /// - Parameters:
    ///   - address: where Prometheus reaches beetlewatch (`host:port`).
    ///   - clusters: the clusters that get a page (TigerBeetle's tag form: 32 lowercase hex digits), in order.
    init(address: String, clusters: [String]) {
        groups =
            clusters.map { id in
                TargetGroup(targets: [address], labels: ["__metrics_path__": "/metrics/clusters/\(id)", Self.pageLabel: "clusters/\(id)"])
            } + [TargetGroup(targets: [address], labels: ["__metrics_path__": "/metrics/agent", Self.pageLabel: "agent"])]
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(groups)
    }
}
