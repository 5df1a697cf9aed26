import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Asks a running agent over HTTP (for `check` and `status`).
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

    static func get(_ url: String, timeout: Double, accept: String? = nil) async throws(Failure) -> Reply {
        guard let parsed = URL(string: url), parsed.scheme == "http" || parsed.scheme == "https" else {
            throw .unreachable(url: url, reason: "not an http(s) URL")
        }
        var request = URLRequest(url: parsed)
        request.timeoutInterval = timeout
        if let accept { request.setValue(accept, forHTTPHeaderField: "Accept") }
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }
        do {
            let (data, response) = try await session.data(for: request)
            guard let http = response as? HTTPURLResponse else { throw Failure.unreachable(url: url, reason: "not an HTTP response") }
            return Reply(status: http.statusCode, body: data)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw .unreachable(url: url, reason: error.localizedDescription)
        }
    }

    /// For commands: the reply, or exit 2 ("cannot be reached") with the reason on standard error.
    static func getOrExit(_ url: String, timeout: Double, accept: String? = nil, command: String) async throws -> Reply {
        do {
            return try await get(url, timeout: timeout, accept: accept)
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
