// beetlewatch-sim: the agent's own code on a simulated TigerBeetle cluster, network and clock, from a seed; checks the
// invariants of docs/architecture.md at every step. A test tool: never shipped in the image.
//
//   beetlewatch-sim --seed S [--duration SECONDS] [--break quorum-hold]     one run, its trace, and a last line
//                                                                           naming the seed and the trace's digest
//   beetlewatch-sim --seeds N [--from S] [--budget SECONDS] [--break ...]   N runs (or as many as fit the wall-clock
//                                                                           budget), a line each; stops at the first
//                                                                           failure and prints its trace
// Exits 1 on a broken invariant, 2 on a bad command line.
import Foundation
import Simulation

// Swift seeds its hashing per process: the agent's dictionaries would iterate in a different order on every run. A
// seed must replay bit for bit, so the simulator runs with deterministic hashing (it starts itself again with it).
if ProcessInfo.processInfo.environment["SWIFT_DETERMINISTIC_HASHING"] != "1" {
    setenv("SWIFT_DETERMINISTIC_HASHING", "1", 1)
    let arguments = CommandLine.arguments.map { strdup($0) } + [nil]
    execv("/proc/self/exe", arguments)
    FileHandle.standardError.write(Data("beetlewatch-sim: could not start again with deterministic hashing\n".utf8))
    exit(2)
}

func usage(_ problem: String) -> Never {
    FileHandle.standardError.write(
        Data(
            """
            beetlewatch-sim: \(problem)
            usage: beetlewatch-sim --seed S [--duration SECONDS] [--break quorum-hold]
                   beetlewatch-sim --seeds N [--from S] [--budget SECONDS] [--duration SECONDS] [--break quorum-hold]

            """.utf8))
    exit(2)
}

var options: [String: String] = [:]
var words = CommandLine.arguments.dropFirst()
while let word = words.popFirst() {
    guard word.hasPrefix("--"), let value = words.popFirst() else { usage("\(word): expected --option VALUE") }
    options[String(word.dropFirst(2))] = value
}
for key in options.keys where !["seed", "seeds", "from", "budget", "duration", "break"].contains(key) { usage("unknown option --\(key)") }
@MainActor func number(_ key: String) -> UInt64? {
    guard let text = options[key] else { return nil }
    guard let value = UInt64(text) else { usage("--\(key) \(text): not a whole number") }
    return value
}
let duration = number("duration").map { Duration.seconds(Int64(clamping: $0)) } ?? Simulation.defaultDuration
guard duration >= .seconds(60) && duration <= .seconds(86_400) else { usage("--duration: 60 to 86400 seconds") }
var breaking: Simulation.Breakage?
if let name = options["break"] {
    guard let known = Simulation.Breakage(rawValue: name) else {
        usage("--break \(name): one of \(Simulation.Breakage.allCases.map(\.rawValue))")
    }
    breaking = known
}

func report(_ outcome: Simulation.Outcome, trace: Bool) {
    if trace { for line in outcome.trace.lines { print(line) } }
    if let violation = outcome.violation { print("broken invariant: \(violation)") }
    print(outcome.summary)
}

if let seed = number("seed") {
    guard options["seeds"] == nil else { usage("--seed and --seeds: one or the other") }
    let outcome = Simulation.run(seed: seed, duration: duration, breaking: breaking)
    report(outcome, trace: true)
    exit(outcome.violation == nil ? 0 : 1)
}
guard let count = number("seeds") else { usage("--seed or --seeds is needed") }
let from = number("from") ?? 0
let budget = number("budget").map { Double($0) }
let started = Date()
var simulated: Duration = .zero
var runs: UInt64 = 0
for seed in from..<(from &+ count) {
    if let budget, Date().timeIntervalSince(started) >= budget { break }
    let outcome = Simulation.run(seed: seed, duration: duration, breaking: breaking)
    runs += 1
    simulated += outcome.simulated
    if outcome.violation != nil {
        report(outcome, trace: true)
        print(
            "\(runs) seeds run; the failing one replays with: beetlewatch-sim --seed \(seed)\(breaking.map { " --break \($0.rawValue)" } ?? "")"
        )
        exit(1)
    }
    print(outcome.summary)
}
let hours = Double(simulated.nanoseconds) / 3.6e12
print(
    "\(runs) seeds from \(from), no invariant broken: \(String(format: "%.2f", hours)) simulated hours in \(String(format: "%.1f", Date().timeIntervalSince(started))) s"
)
