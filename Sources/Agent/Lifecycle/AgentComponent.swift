import TigerBeetle

/// A part of the agent with threads of its own. `Agent` starts its components in list order (consumers before
/// producers) and stops them in reverse, all under one shutdown deadline.
protocol AgentComponent: Sendable {
    func start()
    /// Stops; what it still holds may use the time until `deadline` (the shutdown timeout), no more.
    func stop(deadline: MonotonicInstant)
}

extension HTTPServer: AgentComponent {
    /// Serving since `init`: binding early makes a bad address fail at start, and the other parts need the port.
    func start() {}
    func stop(deadline: MonotonicInstant) { stop() }
}

extension AlertLoop: AgentComponent {
    func stop(deadline: MonotonicInstant) { stop(drainUntil: deadline) }
}

extension IngestThread: AgentComponent {
    /// Applies what is already queued first.
    func stop(deadline: MonotonicInstant) { stop() }
}

extension UDPReceiver: AgentComponent {
    func stop(deadline: MonotonicInstant) { stop() }
}

extension ReplicaProber: AgentComponent {
    func stop(deadline: MonotonicInstant) { stop() }
}
