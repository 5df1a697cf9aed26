import Testing

extension Tag {
    /// A test over real processes, sockets and wall time (the agent binary, Prometheus, Alertmanager, chromium, fake
    /// replicas): seconds each. They live in the EndToEndTests and DeploymentTests targets, so that
    /// `swift test --skip EndToEndTests --skip DeploymentTests` (`scripts/test --quick`) leaves them out: SwiftPM's
    /// `--skip` matches names, not tags. The tag groups them in IDEs and test reports.
    @Tag public static var endToEnd: Self

    /// A test whose assertions need time to pass on the wall clock: it sleeps a set time before it asserts, measures
    /// a duration, or waits out one of the agent's holds, timeouts, backoffs, expiries or refreshes. Timelines belong
    /// on the simulator or a virtual clock; these are what only real processes show (Prometheus, Alertmanager,
    /// chromium, signals, real network paths, the kernel under load). At most a tenth of all tests
    /// (`TestSuiteShapeTests`). Waiting for an answer, a reset or a datagram to be counted (polls that end on an
    /// event, through `Poll.until` and the suites' own helpers) is not waiting on the wall clock.
    @Tag public static var wallClock: Self
}
