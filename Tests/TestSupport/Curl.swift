/// curl, the real HTTPS client the TLS tests talk through.
public enum Curl {
    public struct Reply: Sendable {
        /// curl's exit code: 0, or why the transfer failed (35: TLS handshake, 60: certificate not trusted, 52: empty reply).
        public var exitCode: Int32
        /// 0 when no HTTP response arrived.
        public var status: Int
        public var body: String
        public var headers: String
    }

    /// Fetches `url`; `arguments` go first (e.g. `--cacert`, `-u user:password`, `-X POST`).
    public static func fetch(_ url: String, _ arguments: [String] = []) throws -> Reply {
        let result = try Command.run(
            "/usr/bin/curl",
            [
                "-sS", "--max-time", "10", "-D", "/dev/stderr", "-o", "/dev/stdout",
                "-w", "\n%{http_code}",
            ] + arguments + [url])
        var lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.popLast() ?? "") ?? 0
        return Reply(exitCode: result.status, status: status, body: lines.joined(separator: "\n"), headers: result.stderr)
    }
}
