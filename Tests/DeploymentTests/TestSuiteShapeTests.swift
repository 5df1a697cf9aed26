import Foundation
import TestSupport
import Testing

/// The shape of the suite itself, read from its sources: how many tests wait on the wall clock (issue 25: at most a
/// tenth), and that none sleeps without saying so.
@Suite struct TestSuiteShapeTests {
    /// One `@Test` in the sources: where, its attribute, its body (up to the end of the member, which swift-format
    /// indents four spaces), and whether it or its suite is tagged `.wallClock`.
    struct Declared {
        var file: String
        var name: String
        var body: String
        var wallClock: Bool
    }

    static func declared() throws -> [Declared] {
        let root = Fixtures.repositoryRoot.appendingPathComponent("Tests")
        let files = try #require(FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil))
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
        var tests: [Declared] = []
        for file in files.sorted(by: { $0.path < $1.path }) {
            let lines = try String(contentsOf: file, encoding: .utf8).components(separatedBy: "\n")
            // A suite's tags hold for the tests after it, up to the next suite.
            var suiteIsWall = false
            var index = 0
            while index < lines.count {
                let line = lines[index].trimmingCharacters(in: .whitespaces)
                if line.hasPrefix("@Suite") { suiteIsWall = line.contains(".wallClock") }
                guard line.hasPrefix("@Test") else {
                    index += 1
                    continue
                }
                let end = lines[index...].firstIndex(of: "    }") ?? lines.count - 1
                let member = lines[index...end].joined(separator: "\n")
                let name = member.range(of: "func ").map { member[$0.upperBound...].prefix { $0.isLetter || $0.isNumber } } ?? "?"
                tests.append(
                    Declared(
                        file: file.lastPathComponent, name: String(name), body: member,
                        wallClock: suiteIsWall || line.contains(".wallClock")))
                index = end + 1
            }
        }
        return tests
    }

    @Test func atMostATenthOfTestsWaitOnTheWallClock() throws {
        let tests = try Self.declared()
        let wall = tests.filter(\.wallClock)
        #expect(tests.count > 300, "\(tests.count) tests found: is the scan reading the sources?")
        #expect(
            wall.count * 10 <= tests.count,
            "\(wall.count) of \(tests.count) tests wait on the wall clock:\n\(wall.map { "\($0.file): \($0.name)" }.joined(separator: "\n"))"
        )
    }

    /// A test that sleeps a set time is on the wall clock, and says so (polls go through `Poll.until` and helpers).
    @Test func everyTestThatSleepsIsTaggedWallClock() throws {
        // Spelt in parts, so that this test's own body does not hold them.
        let calls = ["Task.sleep", "usleep", "Thread.sleep", " sleep"].map { $0 + "(" }
        let sleepers = try Self.declared().filter { test in !test.wallClock && calls.contains { test.body.contains($0) } }
        #expect(sleepers.isEmpty, "sleeping, not tagged .wallClock: \(sleepers.map { "\($0.file): \($0.name)" })")
    }
}
