import Agent
import ArgumentParser
import Config
import Foundation

/// How `check` and `status` reach a running agent: over HTTP or HTTPS, with basic auth when the
/// agent's `--web.config.file` asks for it.
struct AgentConnectionOptions: ParsableArguments {
    @Option(help: "Seconds to wait for an answer.")
    var timeout: Double = 5

    @Option(help: "For https:// URLs: the PEM file of the CA (or the self-signed certificate) to trust (default: the system's CAs).")
    var caFile: String?

    @Option(help: "Basic auth user, when the agent's web config requires one.")
    var basicAuthUser: String?

    @Option(help: "File holding the basic auth user's password (one line).")
    var basicAuthPasswordFile: String?
}

/// Asks a running agent over HTTP (for `check` and `status`), through beetlewatch's own client.
enum AgentClient {
    struct Reply {
        var status: Int
        var body: Data
    }

    enum Failure: Error, CustomStringConvertible {
        case unreachable(url: String, reason: String)
        var description: String {
            switch self {
            case .unreachable(let url, let reason): "cannot reach beetlewatch at \(url): \(reason)"
            }
        }
    }

    static func get(_ url: String, options: AgentConnectionOptions, accept: String? = nil) throws(Failure) -> Reply {
        guard let parsed = URL(string: url), parsed.scheme == "http" || parsed.scheme == "https" else {
            throw .unreachable(url: url, reason: "not an http(s) URL")
        }
        var headers: [String: String] = [:]
        if let accept { headers["Accept"] = accept }
        if let user = options.basicAuthUser {
            var password = ""
            if let file = options.basicAuthPasswordFile {
                do throws(ReasonError) {
                    password = try TextFile.read(file).trimmingCharacters(in: .newlines)
                } catch {
                    throw .unreachable(url: url, reason: "cannot read --basic-auth-password-file: \(error.reason)")
                }
            }
            headers["Authorization"] = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        }
        let response = HTTPClient.get(
            parsed, headers: headers, timeout: options.timeout, tls: .init(caFile: options.caFile), clock: SystemClock())
        guard let status = response.status, response.error == nil else {
            throw .unreachable(url: url, reason: response.error ?? "no response")
        }
        return Reply(status: status, body: response.body)
    }

    /// For commands: the reply, or exit 2 ("cannot be reached") with the reason on standard error.
    static func getOrExit(_ url: String, options: AgentConnectionOptions, accept: String? = nil, command: String) throws -> Reply {
        do {
            return try get(url, options: options, accept: accept)
        } catch {
            throw exit(2, command: command, error.description)
        }
    }

    /// Writes `beetlewatch <command>: <message>` to standard error; returns the exit code to throw.
    static func exit(_ code: Int32, command: String, _ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("beetlewatch \(command): \(message)\n".utf8))
        return ExitCode(code)
    }
}
