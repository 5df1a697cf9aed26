import Agent
import Config
import Foundation
import TestSupport
import Testing

/// Runs the built `beetlewatch` binary, as a user would.
enum BeetlewatchBinary {
    static var path: String {
        ProcessInfo.processInfo.environment["BEETLEWATCH_BINARY"]
            ?? Fixtures.repositoryRoot.appendingPathComponent(".build/debug/beetlewatch").path
    }

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Command.Result {
        try Command.run(path, arguments, environment: environment)
    }
}

@Suite(.timeLimit(.minutes(1)), .tags(.endToEnd)) struct CommandLineTests {
    @Test func aBadFlagValueExitsNonZeroNamingTheField() throws {
        let result = try BeetlewatchBinary.run(["--statsd.ttl", "5x"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("statsd.ttl"), "\(result.stderr)")
        #expect(result.stderr.contains("not a duration"), "\(result.stderr)")
    }

    @Test func anUnknownFlagExitsNonZero() throws {
        let result = try BeetlewatchBinary.run(["--statsd.ttll=5m"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("statsd.ttll"), "\(result.stderr)")
        #expect(result.stderr.contains("unknown flag"), "\(result.stderr)")
    }

    @Test func aBadConfigFileExitsNonZeroNamingTheField() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("beetlewatch-bad-\(UUID().uuidString).yml")
        try "statsd:\n  mapping: graphite\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try BeetlewatchBinary.run(["--config.file", file.path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("statsd.mapping"), "\(result.stderr)")
        #expect(result.stderr.contains("graphite"), "\(result.stderr)")
    }

    @Test func aMissingConfigFileExitsNonZero() throws {
        let result = try BeetlewatchBinary.run([], environment: ["BEETLEWATCH_CONFIG_FILE": "/nonexistent/beetlewatch.yml"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("/nonexistent/beetlewatch.yml"), "\(result.stderr)")
    }

    @Test func aBadEnvironmentVariableExitsNonZero() throws {
        let result = try BeetlewatchBinary.run([], environment: ["BEETLEWATCH_WEB_LISTEN_ADDRESS": "nowhere"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("BEETLEWATCH_WEB_LISTEN_ADDRESS"), "\(result.stderr)")
    }

    @Test func replayRejectsAMissingFile() throws {
        let result = try BeetlewatchBinary.run(["replay", "/nonexistent.jsonl", "--to", "127.0.0.1:9"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("/nonexistent.jsonl"), "\(result.stderr)")
    }

    @Test func helpListsEverySetting() throws {
        let text = try BeetlewatchBinary.run(["run", "--help"]).stdout
        for flag in [
            "--statsd.listen-udp", "--statsd.read-buffer", "--statsd.mapping", "--statsd.ttl", "--web.listen-address", "--log.level",
            "BEETLEWATCH_STATSD_TTL",
        ] {
            #expect(text.contains(flag), "\(flag) missing from --help")
        }
    }

    /// docs/configuration.md's example errors are the real ones: each `$ ...` line there is run (its variables set,
    /// its `# file: yaml` written) and what beetlewatch prints must be the line under it, to the byte.
    @Test func theDocumentedErrorMessagesAreTheRealOnes() throws {
        let doc = try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("docs/configuration.md"), encoding: .utf8)
        let lines = doc.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var checked = 0
        for (index, line) in lines.enumerated() where line.hasPrefix("$ ") && index + 1 < lines.count {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("beetlewatch-doc-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let parts = line.dropFirst(2).components(separatedBy: "#")
            if parts.count > 1, let colon = parts[1].firstIndex(of: ":") {
                let file = parts[1][..<colon].trimmingCharacters(in: .whitespaces)
                try String(parts[1][parts[1].index(after: colon)...]).trimmingCharacters(in: .whitespaces)
                    .write(to: directory.appendingPathComponent(file), atomically: true, encoding: .utf8)
            }
            var environment: [String: String] = [:]
            var arguments: [String] = []
            var sawCommand = false
            for word in parts[0].split(separator: " ").map(String.init) {
                if !sawCommand, word == "beetlewatch" {
                    sawCommand = true
                    continue
                }
                if !sawCommand, let equals = word.firstIndex(of: "=") {
                    environment[String(word[..<equals])] = String(word[word.index(after: equals)...])
                } else if sawCommand {
                    arguments.append(word)
                }
            }
            let result = try Command.run(BeetlewatchBinary.path, arguments, environment: environment, directory: directory)
            #expect(result.status == 2, "\(line)")
            #expect(result.stderr.split(separator: "\n").last.map(String.init) == lines[index + 1], "\(line):\n\(result.stderr)")
            checked += 1
        }
        #expect(checked >= 3)
    }
}

/// The log: one line an event, its time to the millisecond in UTC.
@Suite(.tags(.endToEnd)) struct LogFormatTests {
    @Test func linesCarryMillisecondTimestamps() throws {
        // Started, then stopped by SIGTERM a second later.
        let result = try Command.run(
            "/usr/bin/timeout",
            [
                "-s", "TERM", "1", BeetlewatchBinary.path, "--statsd.listen-udp", "127.0.0.1:0",
                "--web.listen-address", "127.0.0.1:0", "--shutdown.timeout", "0s",
            ])
        let first = try #require(result.stderr.split(separator: "\n").first.map(String.init), "\(result.stderr)")
        let pattern = try Regex(#"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info beetlewatch: .* \[Agent\] beetlewatch started$"#)
        #expect(first.wholeMatch(of: pattern) != nil, "\(first)")
    }
}
