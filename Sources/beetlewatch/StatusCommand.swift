import ArgumentParser
import Foundation
import Alerting
import Health

/// A table of clusters and replicas from a running agent.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show every cluster and replica: verdict, reasons, view, commit_max, last seen, probe latency."
    )

    @Option(help: "The status URL.")
    var url: String = "http://127.0.0.1:9917/api/v1/status"

    @OptionGroup var connection: AgentConnectionOptions

    func run() throws {
        let reply = try AgentClient.getOrExit(url, options: connection, accept: "application/json", command: "status")
        guard reply.status == 200, let document = try? JSONDecoder().decode(StatusDocument.self, from: reply.body) else {
            throw AgentClient.exit(2, command: "status", "\(url) answered \(reply.status) without a status document")
        }
        print(StatusTable.render(document, now: Date().timeIntervalSince1970), terminator: "")
        let alertsURL = url.replacingOccurrences(of: "/api/v1/status", with: "/api/v1/alerts")
        if let reply = try? AgentClient.get(alertsURL, options: connection, accept: "application/json"), reply.status == 200,
           let alerts = try? JSONDecoder().decode(AlertsDocument.self, from: reply.body) {
            print("\n" + alerts.text, terminator: "")
        }
        if !document.ready.ready { throw ExitCode(1) }
    }
}
