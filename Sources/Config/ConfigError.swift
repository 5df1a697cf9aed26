/// A configuration problem, naming the field, where its value came from, and why it is wrong.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The setting's key, e.g. `statsd.ttl`.
    public var field: String
    /// Where the value came from: `--statsd.ttl`, `BEETLEWATCH_STATSD_TTL`, or `config.yml`.
    public var source: String
    public var reason: String

    public init(field: String, source: String, reason: String) {
        self.field = field
        self.source = source
        self.reason = reason
    }

    public var description: String {
        "invalid configuration: \(field) (from \(source)): \(reason)"
    }
}
