import Foundation
import TestSupport
import Testing

/// The built `beetlewatch-sim`, as CI and a developer run it: a seed prints the same trace in every process (it runs
/// itself with deterministic hashing), a broken invariant exits 1 naming it and the seed, a bad command line exits 2.
@Suite(.serialized, .timeLimit(.minutes(2)), .tags(.endToEnd)) struct SimulatorCommandTests {
    static var path: String { Fixtures.repositoryRoot.appendingPathComponent(".build/debug/beetlewatch-sim").path }

    /// Runs the simulator on a thread of its own (it takes a core for seconds), not on one of the test runner's two.
    static func run(_ arguments: [String]) async throws -> Command.Result {
        let path = path
        return try await onOwnThread { try Command.run(path, arguments) }
    }

    @Test func aSeedPrintsTheSameTraceInEveryProcess() async throws {
        let first = try await Self.run(["--seed", "7"])
        let second = try await Self.run(["--seed", "7"])
        #expect(first.status == 0, "\(first.stdout.suffix(400))")
        #expect(first.stdout == second.stdout)
        let last = first.stdout.split(separator: "\n").last.map(String.init) ?? ""
        #expect(last.hasPrefix("seed 7: ok, 120.000 s simulated"), "\(last)")
        #expect(last.range(of: #"digest [0-9a-f]{16}$"#, options: .regularExpression) != nil, "\(last)")
    }

    @Test func aBrokenInvariantExitsOneWithTheSeedToReplay() async throws {
        let result = try await Self.run(["--seeds", "3", "--from", "32", "--break", "quorum-hold"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("broken invariant: page-during-quorum-loss"), "\(result.stdout.suffix(600))")
        #expect(result.stdout.contains("replays with: beetlewatch-sim --seed 32 --break quorum-hold"))
    }

    @Test func aBadCommandLineExitsTwo() async throws {
        let result = try await Self.run(["--seed", "x"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--seed x: not a whole number"), "\(result.stderr)")
    }
}
