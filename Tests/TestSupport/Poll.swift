import Foundation

/// Looking at an agent until something holds, on the wall clock.
///
/// The wait ends on a look that *began* after the deadline, never on one taken before it: a look is an HTTP request
/// whose answer the test reads only when the test runner gives it a thread again, and with every runner thread busy
/// (two on this machine, other tests blocking them) that was 25 s later. A loop that checked the clock after such a
/// look ended on an answer from before the wait began ("waiting for the first probe", in CI, of an agent that had been
/// committing for 20 s).
public enum Poll {
    /// The first look for which `done` holds, or the first one that began after `seconds` passed.
    public static func until<Look>(
        within seconds: Double, every interval: Duration = .milliseconds(100), look: () async throws -> Look,
        done: (Look) throws -> Bool
    ) async throws -> Look {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let began = Date()
            let seen = try await look()
            if try done(seen) || began > deadline { return seen }
            try await Task.sleep(for: interval)
        }
    }
}
