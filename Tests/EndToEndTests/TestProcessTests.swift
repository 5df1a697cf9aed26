import Foundation
import Glibc
import TestSupport
import Testing

/// What a test starts, it stops: also when it fails, throws or hangs.
@Suite(.timeLimit(.minutes(1)), .tags(.endToEnd, .wallClock)) struct TestProcessTests {
    /// Whether a process with this id still exists (a zombie counts: nobody reaped it).
    static func exists(_ pid: pid_t) -> Bool { kill(pid, 0) == 0 || errno != ESRCH }

    /// A shell that starts a child of its own and says the child's id.
    static func shellWithChild() throws -> (TestProcess, child: pid_t) {
        let shell = TestProcess("/bin/bash", ["-c", "sleep 600 & echo $!; wait"])
        let output = Pipe()
        shell.process.standardOutput = output
        try shell.start()
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        let child = try #require(pid_t(line.trimmingCharacters(in: .whitespacesAndNewlines)), "no child id in \(line)")
        return (shell, child)
    }

    /// A test that fails on purpose, with a program and a shell's child running: when it has failed, neither is left.
    @Test func aTestThatFailsLeavesNoProcessBehind() throws {
        var pids: [pid_t] = []
        withKnownIssue("failing on purpose") {
            let sleeper = TestProcess("/bin/sleep", ["600"])
            try sleeper.start()
            let (shell, child) = try Self.shellWithChild()
            pids = [sleeper.pid, shell.pid, child]
            #expect(pids.allSatisfy(Self.exists))
            try #require(Bool(false), "this test fails here, with three processes running")
        }
        #expect(pids.count == 3)
        // The shell's child, orphaned, is reaped by init a moment after it is killed.
        let deadline = Date().addingTimeInterval(2)
        while pids.contains(where: Self.exists) && Date() < deadline { usleep(10_000) }
        #expect(!pids.contains(where: Self.exists), "left running: \(pids.filter(Self.exists))")
    }

    /// A program a test never stops (a test hung past its time limit keeps its owner alive) is stopped when it
    /// outlives its lifetime.
    @Test func aProgramPastItsLifetimeIsStopped() throws {
        let forgotten = TestProcess("/bin/sleep", ["600"], lifetime: .seconds(1))
        try forgotten.start()
        let pid = forgotten.pid
        #expect(Self.exists(pid))
        let deadline = Date().addingTimeInterval(5)
        while forgotten.isRunning && Date() < deadline { usleep(50_000) }
        #expect(!forgotten.isRunning)
        #expect(!Self.exists(pid))
        withExtendedLifetime(forgotten) {}
    }
}
