/// What `/api/v1/status` serves and `beetlewatch status` reads: readiness and the whole model.
public struct StatusDocument: Sendable, Equatable, Codable {
    public var ready: ReadinessVerdict
    public var health: HealthReport

    public init(ready: ReadinessVerdict, health: HealthReport) {
        self.ready = ready
        self.health = health
    }
}
