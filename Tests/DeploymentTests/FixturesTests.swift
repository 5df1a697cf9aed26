import Foundation
import TestSupport
import Testing

/// The recorded fixtures are the repository's own: every file `Tests/Fixtures/SHA256SUMS` names is there, unchanged.
@Suite struct FixturesTests {
    @Test func everyRecordedFixtureMatchesItsDigest() throws {
        let sums = try String(contentsOf: Fixtures.url("SHA256SUMS"), encoding: .utf8)
        let names = sums.split(separator: "\n").compactMap { $0.split(separator: " ", omittingEmptySubsequences: true).last }
        #expect(
            Set(names) == [
                "tigerbeetle-3-replicas.events.jsonl", "tigerbeetle-3-replicas.statsd.jsonl", "tigerbeetle-inspect-metrics.txt",
                "tigerbeetle-vsr-ping.txt", "tigerbeetle-vsr-canary.txt",
            ])
        let check = try Command.run("/usr/bin/sha256sum", ["--check", "--strict", "SHA256SUMS"], directory: Fixtures.directory)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.split(separator: "\n").count == names.count)
        #expect(check.stdout.split(separator: "\n").allSatisfy { $0.hasSuffix(": OK") }, "\(check.stdout)")
    }

    /// Each reader of the fixtures gets what the recording holds: the capture's 1,580 datagrams over 242 s.
    @Test func theCaptureIsTheRecordedOne() throws {
        let capture = try Fixtures.capture()
        #expect(capture.count == 1_580)
        #expect(capture.last.map { $0.time > 240 && $0.time < 243 } == true)
    }
}
