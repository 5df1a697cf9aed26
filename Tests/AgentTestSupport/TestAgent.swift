import Agent
import Config
import Foundation
import Logging
import TestSupport

/// A real agent on ephemeral loopback ports for tests, optionally watching cluster 0 at three
/// fake replicas that answer pings like live ones.
public struct TestAgent {
    public let agent: Agent
    public let listeners: [FakeReplica]

    public static let clusterHex = String(repeating: "0", count: 32)

    public static func start(watching: Bool = true, _ configure: (inout AgentConfig) -> Void = { _ in }) throws -> TestAgent {
        try start(watching: watching, reloadingFrom: nil, configure)
    }

    /// - Parameter configSource: what a reload reads (nil: reloads are refused).
    public static func start(
        watching: Bool = true, reloadingFrom configSource: (@Sendable () throws -> AgentConfig)?,
        _ configure: (inout AgentConfig) -> Void = { _ in }
    ) throws -> TestAgent {
        guard NetworkNamespace.callerIsInTheProcesssNamespace else {
            throw CommandFailure("a test agent would start inside a network lab's namespace (a thread started there leaked)")
        }
        return try start(listeners: watching ? FakeReplica.cluster(3) : [], reloadingFrom: configSource, configure)
    }

    /// An agent in `lab`'s agent namespace (its threads and sockets there: web and StatsD on that namespace's loopback),
    /// watching three fake replicas, one in each of the lab's first three replica namespaces.
    public static func start(in lab: NetworkLab, _ configure: (inout AgentConfig) -> Void = { _ in }) throws -> TestAgent {
        let listeners = FakeReplica.cluster(3, hosts: (0..<3).map(NetworkLab.replicaHost)) { i in
            (try? lab.replicas[i].run { socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0) }) ?? -1
        }
        return try lab.agent.run { try start(listeners: listeners, reloadingFrom: nil, configure) }
    }

    private static func start(
        listeners: [FakeReplica], reloadingFrom configSource: (@Sendable () throws -> AgentConfig)?,
        _ configure: (inout AgentConfig) -> Void
    ) throws -> TestAgent {
        let watching = !listeners.isEmpty
        var config = AgentConfig()
        config.statsdListenUDP = HostPort(host: "127.0.0.1", port: 0)
        config.webListenAddress = HostPort(host: "127.0.0.1", port: 0)
        if watching {
            config.tigerBeetleCluster = "0"
            config.tigerBeetleAddresses = listeners.map(\.address)
            config.probeInterval = .milliseconds(200)
        }
        configure(&config)
        var logger = Logger(label: "beetlewatch-test")
        logger.logLevel = .critical
        let agent = try Agent(config: config, logger: logger, configSource: configSource)
        agent.start()
        return TestAgent(agent: agent, listeners: listeners)
    }

    public func stop() {
        agent.stop()
        listeners.forEach { $0.close() }
    }

    /// Sends `text` as one datagram to the agent's StatsD port.
    public func send(_ text: String) throws {
        try Self.send(text, to: agent)
    }

    public static func send(_ text: String, to agent: Agent) throws {
        try StatsDSender(to: HostPort(host: "127.0.0.1", port: agent.statsdPort)).send(Array(text.utf8))
    }

    /// Sends the recorded capture and waits until the agent has applied all of it.
    public func sendCapture() async throws {
        try await Self.sendCapture(to: agent)
    }

    /// Sends the capture's first 10 s again as each of `clusters` (its `cluster` tag rewritten): more clusters' replicas,
    /// heard over StatsD only. Returns how many datagrams it sent.
    @discardableResult
    public func sendCaptureCycle(asClusters clusters: [String]) throws -> Int {
        let capture = try Fixtures.capture()
        guard let first = capture.first?.time else { return 0 }
        let sender = try StatsDSender(to: HostPort(host: "127.0.0.1", port: agent.statsdPort))
        var sent = 0
        for id in clusters {
            for datagram in capture where datagram.time < first + 10 {
                try sender.send(Array(datagram.text.replacingOccurrences(of: "cluster:" + Self.clusterHex, with: "cluster:" + id).utf8))
                sent += 1
            }
        }
        return sent
    }

    /// Sends the recorded capture from inside `lab`'s agent namespace and waits until the agent has applied all of it.
    public static func sendCapture(to agent: Agent, in lab: NetworkLab) throws {
        let capture = try Fixtures.capture()
        let sender = try lab.agent.run { try StatsDSender(to: HostPort(host: "127.0.0.1", port: agent.statsdPort)) }
        for datagram in capture { try sender.send(Array(datagram.text.utf8)) }
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let page = try lab.agent.get(port: agent.webPort, "/metrics").body
            if PrometheusText.samples(page)["beetlewatch_statsd_datagrams_total"] == Double(capture.count) { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw CommandFailure("the agent did not apply the capture's \(capture.count) datagrams within 20 s")
    }

    public static func sendCapture(to agent: Agent) async throws {
        let capture = try Fixtures.capture()
        let sender = try StatsDSender(to: HostPort(host: "127.0.0.1", port: agent.statsdPort))
        for datagram in capture { try sender.send(Array(datagram.text.utf8)) }
        _ = try await HTTPTestClient.scrape(port: agent.webPort) { $0["beetlewatch_statsd_datagrams_total"] == Double(capture.count) }
    }
}
