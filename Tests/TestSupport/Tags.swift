import Testing

extension Tag {
    /// A test over real processes, sockets and wall time (the agent binary, Prometheus, Alertmanager, chromium, fake
    /// replicas): seconds each. They live in the EndToEndTests and DeploymentTests targets, so that
    /// `swift test --skip EndToEndTests --skip DeploymentTests` (`scripts/test --quick`) leaves them out: SwiftPM's
    /// `--skip` matches names, not tags. The tag groups them in IDEs and test reports.
    @Tag public static var endToEnd: Self
}
