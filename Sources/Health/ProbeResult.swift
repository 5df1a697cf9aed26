/// The outcome of one TCP connect probe (blackbox_exporter's meaning).
public struct ProbeResult: Sendable, Equatable, Codable {
    public var success: Bool
    /// Time from the start of the probe (name resolution included) to connect or failure.
    public var durationSeconds: Double
    /// When the probe finished, nanoseconds since the epoch.
    public var at: Int64
    /// Why it failed: "connection refused", "timed out after 1s", ...
    public var error: String?

    public init(success: Bool, durationSeconds: Double, at: Int64, error: String? = nil) {
        self.success = success
        self.durationSeconds = durationSeconds
        self.at = at
        self.error = error
    }
}
