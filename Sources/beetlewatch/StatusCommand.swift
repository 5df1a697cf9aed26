import Alerting
import ArgumentParser
import Foundation
import Health

/// A table of clusters and replicas from a running agent.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show every cluster and replica: verdict, reasons, view, commit_max, last seen, probe latency."
    )

    @Option(help: "The agent's base URL (http://host:9917) or its /api/v1/status URL.")
    var url: String = "http://127.0.0.1:9917"

    @OptionGroup var connection: AgentConnectionOptions

    func run() throws {
        let statusURL = AgentURL.resolve(url, endpoint: "/api/v1/status")
        let reply = try AgentClient.getOrExit(statusURL, options: connection, accept: "application/json", command: "status")
        guard reply.status == 200, let document = try? JSONDecoder().decode(StatusDocument.self, from: reply.body) else {
            throw AgentClient.exit(
                2, command: "status",
                "\(statusURL) answered \(AgentURL.describe(status: reply.status, body: reply.body)), "
                    + "not beetlewatch's status document; --url takes the agent's base URL (http://127.0.0.1:9917) or its /api/v1/status URL"
            )
        }
        print(StatusTable.render(document, now: Date().timeIntervalSince1970), terminator: "")
        let alertsURL = AgentURL.base(of: statusURL, endpoint: "/api/v1/status") + "/api/v1/alerts"
        if let reply = try? AgentClient.get(alertsURL, options: connection, accept: "application/json"), reply.status == 200,
            let alerts = try? JSONDecoder().decode(AlertsDocument.self, from: reply.body)
        {
            print("\n" + alerts.text, terminator: "")
        }
        if !document.ready.ready { throw ExitCode(1) }
    }
}
