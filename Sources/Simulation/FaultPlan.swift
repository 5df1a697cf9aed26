import TigerBeetle

/// What goes wrong in one simulated run, drawn from its seed: faults, each over a window of simulated time, and the
/// StatsD path's own weather (loss, duplication, reordering, forged datagrams) for the whole run, and the pager's own
/// faults (down, failing, slow, hanging). One seed in ten is quiet: no fault at all, so a cold start and a calm cluster
/// are searched too.
public struct FaultPlan: Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable, CustomStringConvertible {
        /// `kill -9`: connections reset, connects refused; it restarts at the end.
        case crash(Int)
        /// `kill -STOP`: its kernel still answers; `kill -CONT` at the end.
        case stop(Int)
        /// The agent's path to these replicas dropped both ways (no refusal, no reset).
        case cutAgent([Int])
        /// These replicas cut off from their peers (the agent still reaches them).
        case isolate([Int])
        /// The agent's path to a replica loses `percent`% of its segments and is `delay` slower one way.
        case lossy(Int, percent: Int, delay: Duration)
        /// The replica syncs state (its StatsD says the stage; its commit stays behind until the sync ends).
        case sync(Int)
        /// A rolling upgrade: the replica runs the next release ahead of the others; at the end the others catch up.
        case upgrade(Int)

        /// As the trace names it (the delay in nanoseconds: every seed's digest was taken with it so).
        public var description: String {
            switch self {
            case .crash(let replica): "crash(\(replica))"
            case .stop(let replica): "stop(\(replica))"
            case .cutAgent(let replicas): "cutAgent(\(replicas))"
            case .isolate(let replicas): "isolate(\(replicas))"
            case .lossy(let replica, let percent, let delay): "lossy(\(replica), percent: \(percent), delay: \(delay.nanoseconds))"
            case .sync(let replica): "sync(\(replica))"
            case .upgrade(let replica): "upgrade(\(replica))"
            }
        }
    }

    public struct Fault: Sendable {
        public var kind: Kind
        public var start: MonotonicInstant
        public var end: MonotonicInstant

        public init(_ kind: Kind, from start: MonotonicInstant, to end: MonotonicInstant) {
            precondition(start < end, "a fault ends after it starts")
            self.kind = kind
            self.start = start
            self.end = end
        }
    }

    public struct StatsDWeather: Sendable {
        public var lossPercent = 0
        public var duplicatePercent = 0
        /// Added delay of a datagram, at most (reorders them).
        public var jitter: Duration = .zero
        /// Hostile datagrams a second (garbage, absurd values, unwatched clusters).
        public var forgedPerSecond = 0

        /// A clean StatsD path.
        public init() {}
    }

    /// A window in which the webhook receiver misbehaves.
    public struct ReceiverFault: Sendable {
        var kind: SimulatedReceiver.Fault
        public var start: MonotonicInstant
        public var end: MonotonicInstant
    }

    public var duration: Duration
    public var faults: [Fault]
    public var statsd: StatsDWeather
    public var receiver: [ReceiverFault] = []
    /// When the agent's configuration is reloaded, unchanged (as configuration management does on every run): invisible.
    public var reloads: [MonotonicInstant] = []

    public var isQuiet: Bool { faults.isEmpty }

    /// A plan written out: these faults over `duration`, the StatsD path clean unless `statsd` says otherwise, the receiver
    /// well unless `receiver` says otherwise, no reload.
    public init(duration: Duration, faults: [Fault], statsd: StatsDWeather = StatsDWeather(), receiver: [ReceiverFault] = []) {
        self.duration = duration
        self.faults = faults.sorted { $0.start < $1.start }
        self.statsd = statsd
        self.receiver = receiver
    }

    /// A plan for `replicas` replicas drawn from `random`: faults start after a cold start of 20 s and end 30 s before
    /// the run does, so resolutions are seen.
    public static func draw(replicas: Int, duration: Duration, using random: inout SeededRandom) -> FaultPlan {
        let second = Duration.seconds(1)
        let seconds = duration.nanoseconds / 1_000_000_000
        let end = MonotonicInstant.zero + duration
        var statsd = StatsDWeather()
        if random.chance(50) {
            statsd.lossPercent = Int(random.int(0...30))
            statsd.duplicatePercent = Int(random.int(0...20))
            statsd.jitter = .milliseconds(random.int(0...500))
            statsd.forgedPerSecond = Int(random.int(0...50))
        }
        guard !random.chance(10) else { return FaultPlan(duration: duration, faults: [], statsd: statsd) }
        var faults: [Fault] = []
        for _ in 0..<random.int(1...3) {
            let start = MonotonicInstant.zero + second * random.int(20...(seconds - 40)) + .milliseconds(random.int(0...999))
            let length = second * random.int(1...25) + .milliseconds(random.int(0...999))
            let one = Int(random.int(0...Int64(replicas - 1)))
            let two = Array(Set([one, Int(random.int(0...Int64(replicas - 1)))])).sorted()
            let kind: Kind =
                switch random.int(0...5) {
                case 0: .crash(one)
                case 1: .stop(one)
                case 2: .cutAgent(random.chance(50) ? [one] : two)
                case 3: .isolate(random.chance(50) ? [one] : two)
                case 4: .lossy(one, percent: Int(random.int(5...40)), delay: .milliseconds(random.int(0...300)))
                default: .crash(one)
                }
            faults.append(Fault(kind, from: start, to: min(start + length, end - .seconds(30))))
        }
        return FaultPlan(duration: duration, faults: faults.sorted { $0.start < $1.start }, statsd: statsd)
    }

    /// A replica's own life, from a generator of its own (so adding it left every seed's other faults as they were): in a
    /// third of the runs with faults, a state sync or a rolling upgrade of one replica, 5–60 s, ending 30 s before the
    /// run does.
    mutating func drawLifecycleFaults(replicas: Int, using random: inout SeededRandom) {
        guard !isQuiet, random.chance(33) else { return }
        let second = Duration.seconds(1)
        let seconds = duration.nanoseconds / 1_000_000_000
        let start = MonotonicInstant.zero + second * random.int(20...(seconds - 40)) + .milliseconds(random.int(0...999))
        let length = second * random.int(5...60)
        let replica = Int(random.int(0...Int64(replicas - 1)))
        let kind: Kind = random.chance(50) ? .sync(replica) : .upgrade(replica)
        let end = min(start + length, MonotonicInstant.zero + duration - .seconds(30))
        guard start < end else { return }
        faults.append(Fault(kind, from: start, to: end))
        faults.sort { $0.start < $1.start }
    }

    /// The receiver's faults for a plan, from a generator of their own (so adding them left every seed's other faults as
    /// they were): in half of the runs with faults, one or two windows of 1–30 s that end 50 s before the run does, so
    /// what they held back is seen delivered.
    mutating func drawReceiverFaults(using random: inout SeededRandom) {
        guard !isQuiet, random.chance(50) else { return }
        let second = Duration.seconds(1)
        let seconds = duration.nanoseconds / 1_000_000_000
        let end = MonotonicInstant.zero + duration
        var windows: [ReceiverFault] = []
        for _ in 0..<random.int(1...2) {
            let start = MonotonicInstant.zero + second * random.int(20...(seconds - 60)) + .milliseconds(random.int(0...999))
            let length = second * random.int(1...30)
            let kind: SimulatedReceiver.Fault =
                switch random.int(0...3) {
                case 0: .down
                case 1: .failing
                case 2: .slow(latency: .milliseconds(random.int(100...15_000)))
                default: .hanging
                }
            windows.append(ReceiverFault(kind: kind, start: start, end: min(start + length, end - .seconds(50))))
        }
        // One at a time: a window starting inside another starts when it ends.
        windows.sort { $0.start < $1.start }
        for i in windows.indices.dropFirst() where windows[i].start < windows[i - 1].end {
            windows[i].start = windows[i - 1].end
        }
        receiver = windows.filter { $0.start < $0.end }
    }

    /// Reloads for a plan, from a generator of their own: in half of the runs, one to three, at any time (a cold start
    /// included).
    mutating func drawReloads(using random: inout SeededRandom) {
        guard random.chance(50) else { return }
        let milliseconds = duration.nanoseconds / 1_000_000
        reloads = (0..<random.int(1...3)).map { _ in MonotonicInstant.zero + .milliseconds(random.int(1_000...(milliseconds - 10_000))) }
            .sorted()
    }

    public var description: String {
        let lines = faults.map { "  \(Self.seconds($0.start))–\(Self.seconds($0.end)) s: \($0.kind)" }
        let weather =
            "  StatsD: \(statsd.lossPercent)% lost, \(statsd.duplicatePercent)% duplicated, up to \(statsd.jitter.nanoseconds / 1_000_000) ms late, "
            + "\(statsd.forgedPerSecond) forged/s"
        let pager = receiver.map { "  \(Self.seconds($0.start))–\(Self.seconds($0.end)) s: receiver \($0.kind)" }
        let reloading = reloads.isEmpty ? [] : ["  reloads at " + reloads.map { "\(Self.seconds($0)) s" }.joined(separator: ", ")]
        let body = (lines.isEmpty ? ["  no fault"] : lines) + pager + reloading + [weather]
        return (["plan (\(Self.seconds(duration)) s):"] + body).joined(separator: "\n")
    }

    /// Seconds to the millisecond (truncated), as the trace writes them: `12.345`.
    static func seconds(_ duration: Duration) -> String {
        let ms = duration.nanoseconds / 1_000_000
        return "\(ms / 1000).\(String(ms % 1000).leftPadded(3))"
    }

    /// The simulated time of `instant` (since the run started), as the trace writes it.
    static func seconds(_ instant: MonotonicInstant) -> String { seconds(instant - MonotonicInstant.zero) }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
