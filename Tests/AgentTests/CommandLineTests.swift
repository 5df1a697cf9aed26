import Foundation
import TestSupport
import Testing

/// Runs the built `beetlewatch` binary, as a user would.
enum BeetlewatchBinary {
    static var path: String {
        ProcessInfo.processInfo.environment["BEETLEWATCH_BINARY"]
            ?? SharedFixtures.repositoryRoot.appendingPathComponent(".build/debug/beetlewatch").path
    }

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Command.Result {
        try Command.run(path, arguments, environment: environment)
    }
}

@Suite(.timeLimit(.minutes(1))) struct CommandLineTests {
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
        for flag in ["--statsd.listen-udp", "--statsd.read-buffer", "--statsd.mapping", "--statsd.ttl", "--web.listen-address", "--log.level", "BEETLEWATCH_STATSD_TTL"] {
            #expect(text.contains(flag), "\(flag) missing from --help")
        }
    }
}
