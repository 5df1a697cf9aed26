import Agent
import Alerting
import Health
import TigerBeetle

/// The state of one run and its step.
struct World {
    let plan: FaultPlan
    let clock: SimulatedClock
    let cluster: SimulatedCluster
    let network: SimulatedNetwork
    let agent: SteppedAgent
    var random: SeededRandom
    /// The StatsD weather of the lines only a replica's sync adds (`replica_sync_stage`), from a generator of its own:
    /// a run whose plan gained a sync sends every other line, and loses, duplicates and delays it, as it did before.
    var syncLineRandom: SeededRandom
    var monitor: InvariantMonitor
    var truth: GroundTruth
    var trace: Trace
    var steps = 0
    /// Fault boundaries still to come: (time, fault index, starts).
    lazy var boundaries: [(at: MonotonicInstant, fault: Int, starts: Bool)] = plan.faults.indices.flatMap {
        [(plan.faults[$0].start, $0, true), (plan.faults[$0].end, $0, false)]
    }.sorted { ($0.at, $0.fault, $0.starts ? 1 : 0) < ($1.at, $1.fault, $1.starts ? 1 : 0) }
    var active: Set<Int> = []
    var nextStatsD: [MonotonicInstant] = []
    /// Datagrams on their way to the agent: (arrives at, sequence, bytes).
    var datagrams: [(at: MonotonicInstant, sequence: Int, bytes: [UInt8])] = []
    var datagramSequence = 0
    var nextLoad: MonotonicInstant = .zero + .milliseconds(500)
    var nextExpiry: MonotonicInstant = .zero + .seconds(1)
    var nextForged: MonotonicInstant = .distantFuture
    var receiver = SimulatedReceiver()
    /// Reloads still to come.
    lazy var reloads: [MonotonicInstant] = plan.reloads
    /// Each receiver channel's POST under way: its answer, and when it comes.
    var inFlight: [String: SimulatedReceiver.Answer] = [:]
    /// Each receiver channel's retry pause: when it ends.
    var pausedUntil: [String: MonotonicInstant] = [:]
    lazy var receiverBoundaries: [(at: MonotonicInstant, fault: SimulatedReceiver.Fault?)] = plan.receiver.flatMap {
        window -> [(at: MonotonicInstant, fault: SimulatedReceiver.Fault?)] in [(window.start, window.kind), (window.end, nil)]
    }.sorted { ($0.at, $0.fault == nil ? 0 : 1) < ($1.at, $1.fault == nil ? 0 : 1) }
    var lastReady: Bool?
    /// The last health report made, when, the agent's inputs' version then, and `/ready`'s verdict on it.
    var lastReport: (at: MonotonicInstant, version: UInt64, report: HealthReport, ready: Bool)?
    static let reportReuse: Duration = .milliseconds(50)
    var lastStates: [ReplicaState] = []
    var lastCanary = ""
    var sameInstant = 0

    static let second: Duration = .seconds(1)

    /// A second over `count`, to the nanosecond below: the interval of something that happens `count` times a second.
    static func interval(_ count: Int) -> Duration { .nanoseconds(second.nanoseconds / Int64(count)) }

    mutating func run() -> InvariantMonitor.Violation? {
        let end = MonotonicInstant.zero + plan.duration
        nextStatsD = (0..<cluster.count).map { _ in .zero + .milliseconds(random.int(0...9_999)) }
        if plan.statsd.forgedPerSecond > 0 { nextForged = .zero + Self.interval(plan.statsd.forgedPerSecond) }
        while clock.now < end {
            steps += 1
            applyFaults()
            network.pump()
            cluster.update(now: clock.now)
            emitStatsD()
            deliverDatagrams()
            if clock.now >= nextLoad {
                cluster.commitLoad(now: clock.now)
                nextLoad += .milliseconds(500)
            }
            probe()
            if clock.now >= nextExpiry {
                agent.expire()
                nextExpiry += Self.second
            }
            if let reload = reloads.first, reload <= clock.now {
                reloads.removeFirst()
                agent.reload(agent.config)
                trace.add(at: clock.now, "reload (unchanged)")
            }
            agent.evaluateAlertsIfDue()
            deliver()
            truth.observe(cluster, paths: network.paths, now: clock.now)
            do {
                try observe()
            } catch let violation as InvariantMonitor.Violation {
                trace.add(at: clock.now, "VIOLATION \(violation.name): \(violation.detail)")
                return violation
            } catch {
                preconditionFailure("\(error)")
            }
            // What the prober or ingest changed is evaluated at this instant, as the woken alert loop does (a few times
            // at most: nothing raises it again without new input).
            if agent.alertsPending && sameInstant < 10 {
                sameInstant += 1
                continue
            }
            sameInstant = 0
            let candidates: [MonotonicInstant?] = [
                boundaries.first?.at, network.nextEventAt, network.loopWakesAt, nextStatsD.min(), datagrams.first?.at, nextLoad,
                nextExpiry, agent.alertsDue, cluster.nextChange, nextForged, end, receiverBoundaries.first?.at,
                reloads.first, receiver.nextReadAt, inFlight.values.map(\.at).min(), pausedUntil.values.min(),
            ]
            let next = candidates.compactMap { $0 }.min()!
            clock.advance(to: max(next, clock.now + .nanoseconds(1)))
        }
        return nil
    }

    /// The receivers' channels: answers that came back are given to them, and each asks for its next POST, which the
    /// simulated receiver answers (later) as its faults say.
    mutating func deliver() {
        while let first = receiverBoundaries.first, first.at <= clock.now {
            receiverBoundaries.removeFirst()
            receiver.set(fault: first.fault, now: clock.now)
            trace.add(at: clock.now, first.fault.map { "receiver fault: \($0)" } ?? "receiver healed")
        }
        receiver.catchUp(now: clock.now)
        for name in agent.receivers {
            if let answer = inFlight[name] {
                guard answer.at <= clock.now else { continue }
                inFlight[name] = nil
                agent.answer(name, status: answer.status, error: answer.error)
            }
            pausedUntil[name] = nil
            switch agent.deliveryStep(receiver: name) {
            case .send(let delivery):
                let answer = receiver.post(delivery.body, timeout: delivery.timeout, now: clock.now)
                precondition(answer.at > clock.now, "a receiver answers after it is asked")
                trace.add(
                    at: clock.now,
                    "POST \(name) (try \(delivery.attempt)): \(SimulatedReceiver.summary(delivery.body)); answered at \(FaultPlan.seconds(answer.at)) s: \(answer.status.map { "HTTP \($0)" } ?? answer.error ?? "?")"
                )
                inFlight[name] = answer
            case .wait(let until):
                pausedUntil[name] = until
            case .idle:
                break
            }
        }
    }

    /// The prober's loop turns until it has nothing more to do at this instant (bounded: a loop that spins is a defect).
    mutating func probe() {
        for _ in 0..<1_000 {
            agent.probe()
            network.pump()
            guard network.hasReadyEvents || network.loopWakesAt <= clock.now || network.isWoken else { return }
        }
        preconditionFailure("the prober's loop spins at \(FaultPlan.seconds(clock.now)) s")
    }

    mutating func applyFaults() {
        var changed = false
        while let first = boundaries.first, first.at <= clock.now {
            boundaries.removeFirst()
            if first.starts { active.insert(first.fault) } else { active.remove(first.fault) }
            if case .upgrade(let replica) = plan.faults[first.fault].kind {
                if first.starts { cluster.upgrade(replica) } else { cluster.completeUpgrade(of: replica) }
            }
            trace.add(at: clock.now, "\(first.starts ? "fault" : "healed"): \(plan.faults[first.fault].kind)")
            changed = true
        }
        guard changed else { return }
        let faults = active.sorted().map { plan.faults[$0] }
        let kinds = faults.map(\.kind)
        for i in 0..<cluster.count {
            let process: SimulatedCluster.Process =
                kinds.contains(.crash(i)) ? .crashed : kinds.contains(.stop(i)) ? .stopped : .running
            let before = cluster.replicas[i].process
            if process != before {
                cluster.set(i, process: process, now: clock.now)
                if process == .crashed { network.crashed(i) }
                if before == .stopped && process == .running { network.resumed(i) }
            }
            let isolated = kinds.contains { if case .isolate(let set) = $0 { set.contains(i) } else { false } }
            if isolated != cluster.replicas[i].isolated { cluster.isolate(i, isolated, now: clock.now) }
            let syncing = kinds.contains(.sync(i))
            if syncing != cluster.replicas[i].syncing { cluster.sync(i, syncing, now: clock.now) }
            var path = network.paths[i]
            path.cut = kinds.contains { if case .cutAgent(let set) = $0 { set.contains(i) } else { false } }
            path.loss = 0
            path.delay = .zero
            path.lossyUntil = .zero
            for fault in faults {
                if case .lossy(let replica, let percent, let delay) = fault.kind, replica == i {
                    path.loss = percent
                    path.delay = delay
                    path.lossyUntil = fault.end
                }
            }
            network.set(path: i, path)
        }
    }

    mutating func emitStatsD() {
        for i in 0..<cluster.count where clock.now >= nextStatsD[i] {
            nextStatsD[i] += Self.second * 10
            guard cluster.replicas[i].process == .running, !network.paths[i].cut else { continue }
            // A line a datagram, as TigerBeetle's cycle comes in several datagrams (the capture: ~25 each cycle).
            for line in cluster.statsd(i, now: clock.now).split(separator: "\n") {
                send(Array(line.utf8), from: i, syncLine: line.hasPrefix("tb.replica_sync_stage:"))
            }
        }
        if clock.now >= nextForged {
            nextForged += Self.interval(max(1, plan.statsd.forgedPerSecond))
            send(forged(), from: nil)
        }
    }

    /// A datagram on the StatsD path, with the run's weather: lost, duplicated, late.
    mutating func send(_ bytes: [UInt8], from replica: Int?, syncLine: Bool = false) {
        var random = syncLine ? syncLineRandom : self.random
        defer { if syncLine { syncLineRandom = random } else { self.random = random } }
        guard !random.chance(plan.statsd.lossPercent) else { return }
        let copies = random.chance(plan.statsd.duplicatePercent) ? 2 : 1
        for _ in 0..<copies {
            let latency = replica.map { network.paths[$0].latency } ?? .milliseconds(1)
            let jitter: Duration = plan.statsd.jitter > .zero ? .nanoseconds(random.int(0...plan.statsd.jitter.nanoseconds)) : .zero
            let at = clock.now + latency + jitter
            datagramSequence += 1
            let entry = (at: at, sequence: datagramSequence, bytes: bytes)
            let index = datagrams.firstIndex { ($0.at, $0.sequence) > (entry.at, entry.sequence) } ?? datagrams.endIndex
            datagrams.insert(entry, at: index)
        }
    }

    mutating func deliverDatagrams() {
        while let first = datagrams.first, first.at <= clock.now {
            datagrams.removeFirst()
            if let (replica, stage) = Self.syncStage(in: first.bytes) { truth.told(replica: replica, syncStage: stage, now: clock.now) }
            agent.ingest(datagram: first.bytes)
        }
    }

    /// The replica and stage of a simulated replica's `replica_sync_stage` line (a line a datagram), nil for any other.
    static func syncStage(in bytes: [UInt8]) -> (replica: Int, stage: Int)? {
        let text = String(decoding: bytes, as: UTF8.self)
        let prefix = "tb.replica_sync_stage:"
        guard text.hasPrefix(prefix), let bar = text.firstIndex(of: "|"), let tag = text.range(of: ",replica:") else { return nil }
        guard let stage = Int(text[text.index(text.startIndex, offsetBy: prefix.count)..<bar]), let replica = Int(text[tag.upperBound...])
        else { return nil }
        return (replica, stage)
    }

    /// Something anyone on the StatsD network could send: garbage, absurd values, a cluster nobody watches, a tag that
    /// is no replica.
    mutating func forged() -> [UInt8] {
        let cluster = ClusterID.hex(self.cluster.id)
        switch random.int(0...5) {
        case 0: return (0..<random.int(1...300)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        case 1: return Array("tb.replica_view:1e400|g|#cluster:\(cluster),replica:1".utf8)
        case 2: return Array("tb.replica_commit_max:-5|g|#cluster:\(cluster),replica:0".utf8)
        case 3: return Array("tb.replica_status:0|g|#cluster:\(ClusterID.hex(UInt128(random.next()))),replica:0".utf8)
        case 4: return Array("tb.replica_status:0|g|#cluster:\(cluster),replica:99".utf8)
        default: return Array("app.requests.\(random.next() % 100_000):1|c|#k:\(random.next() % 1000)".utf8)
        }
    }

    mutating func observe() throws {
        // A report made less than 50 ms ago, with nothing the agent reads changed since, is this instant's (the health
        // evaluation was most of a debug run's time; a verdict that turns on time alone is seen at most 50 ms late).
        let (report, ready): (HealthReport, Bool)
        if let last = lastReport, last.version == agent.inputsVersion, clock.now - last.at < Self.reportReuse {
            (report, ready) = (last.report, last.ready)
        } else {
            report = agent.healthReport()
            ready = agent.readiness(of: report).ready
            lastReport = (clock.now, agent.inputsVersion, report, ready)
        }
        let changes = try monitor.check(
            now: clock.now, truth: truth, alerts: agent.alerts, notifications: agent.takeNotifications(), receiver: receiver, ready: ready,
            report: report,
            series: agent.seriesCount, forbidden: network.forbidden)
        for change in changes { trace.add(at: clock.now, change) }
        if ready != lastReady {
            trace.add(at: clock.now, "/ready \(ready ? 200 : 503)")
            lastReady = ready
        }
        let verdict = report.cluster(ClusterID.hex(cluster.id))
        let canary =
            verdict.map {
                "canary: \($0.canary?.state.rawValue ?? "none"), committing \($0.committing.map(String.init) ?? "unknown")\($0.canary?.error.map { " (\($0))" } ?? "")"
            } ?? ""
        if canary != lastCanary {
            trace.add(at: clock.now, canary)
            lastCanary = canary
        }
        let states = verdict?.replicas.map(\.state) ?? []
        if states != lastStates {
            trace.add(at: clock.now, "replicas: \(states.map(\.rawValue).joined(separator: " ")); cluster commits: \(cluster.commits)")
            lastStates = states
        }
    }
}
