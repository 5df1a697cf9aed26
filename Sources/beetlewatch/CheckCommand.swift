import ArgumentParser
import Foundation
import Health

/// The gates for compose healthchecks and init containers, with no curl in the image: readiness (every watched
/// cluster has quorum) by default, the agent's own liveness with `--live`.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract:
            "Exit 0 when beetlewatch reports ready, 1 when not (printing why), 2 when it cannot be reached or what answered is not beetlewatch's readiness.",
        discussion:
            "With --live: exit 0 when the agent itself is up (/health), whatever TigerBeetle's state; for a container's own health check."
    )

    @Option(help: "The agent's base URL (http://host:9917), or its /ready (/health with --live) URL.")
    var url: String = "http://127.0.0.1:9917"

    @Flag(help: "Check that the agent is up (/health) instead of ready.")
    var live = false

    @Option(help: "Keep asking every 2 s until ready (or up), for at most this many seconds; then exit as the last answer says.")
    var wait: Double = 0

    @OptionGroup var connection: AgentConnectionOptions

    func run() throws {
        let deadline = Date().addingTimeInterval(max(0, wait))
        while true {
            do {
                try (live ? checkLive() : checkReady())
                return
            } catch {
                guard Date() < deadline else { throw error }
                Thread.sleep(forTimeInterval: 2)
            }
        }
    }

    func checkReady() throws {
        let ready = AgentURL.resolve(url, endpoint: "/ready")
        let reply = try AgentClient.getOrExit(ready, options: connection, accept: "application/json", command: "check")
        // Only beetlewatch's readiness document counts, and its verdict must agree with the status: any other 200
        // (an index page, a proxy's error page) must never pass the gate.
        guard reply.status == 200 || reply.status == 503,
            let verdict = try? JSONDecoder().decode(ReadinessVerdict.self, from: reply.body),
            verdict.ready == (reply.status == 200)
        else {
            throw AgentClient.exit(
                2, command: "check",
                "\(ready) answered \(AgentURL.describe(status: reply.status, body: reply.body)), "
                    + "not beetlewatch's readiness; --url takes the agent's base URL (http://127.0.0.1:9917) or its /ready URL")
        }
        print(verdict.text, terminator: "")
        if !verdict.ready { throw ExitCode(1) }
    }

    func checkLive() throws {
        let health = AgentURL.resolve(url, endpoint: "/health")
        let reply = try AgentClient.getOrExit(health, options: connection, accept: "application/json", command: "check")
        guard reply.status == 200, let liveness = try? JSONDecoder().decode(Liveness.self, from: reply.body),
            liveness.agent == "beetlewatch"
        else {
            throw AgentClient.exit(
                2, command: "check",
                "\(health) answered \(AgentURL.describe(status: reply.status, body: reply.body)), "
                    + "not beetlewatch's liveness; --url takes the agent's base URL (http://127.0.0.1:9917) or its /health URL")
        }
        print("alive")
    }
}
