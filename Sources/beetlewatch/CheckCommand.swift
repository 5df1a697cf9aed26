import ArgumentParser
import Foundation

/// The health gate for Docker HEALTHCHECK and compose healthchecks: no curl needed.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Exit 0 when beetlewatch reports ready, 1 when not (printing why), 2 when it cannot be reached."
    )

    @Option(help: "The readiness URL.")
    var url: String = "http://127.0.0.1:9917/ready"

    @OptionGroup var connection: AgentConnectionOptions

    func run() throws {
        let reply = try AgentClient.getOrExit(url, options: connection, command: "check")
        let body = String(decoding: reply.body, as: UTF8.self)
        switch reply.status {
        case 200:
            print(body, terminator: "")
        case 503:
            print(body, terminator: "")
            throw ExitCode(1)
        default:
            throw AgentClient.exit(2, command: "check", "\(url) answered \(reply.status): \(body)")
        }
    }
}
