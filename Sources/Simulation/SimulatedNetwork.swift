import Agent
import FakeTigerBeetle
import Glibc
import Probe
import TigerBeetle
import VSR

/// The network between the agent's prober and a `SimulatedCluster`, as TCP behaves: a connect to a crashed replica is
/// refused (RST), to a stopped one completes (the kernel answers), through a cut path never completes (no refusal);
/// bytes arrive after the link's latency, late by retransmissions on a lossy path, and wait while the path is cut or the
/// replica is stopped (its kernel acknowledges them; a cut path does not); a crash resets open connections. Every
/// message the agent writes is checked before a replica reads it: only `ping_client`, `register` and
/// `lookup_accounts`, checksummed, may leave (`forbidden` keeps the first other). Events happen at whole nanoseconds in
/// a fixed order (time, then sequence): a seed replays bit for bit.
public final class SimulatedNetwork: ProbeNetwork, @unchecked Sendable {
    /// The path from the agent to one replica.
    public struct Path: Sendable {
        /// One way.
        public var latency: Duration
        /// Packets dropped both ways (no refusal, no reset): nothing arrives until it is restored.
        public var cut = false
        /// Percent of segments lost once (each loss costs a retransmission timeout).
        public var loss = 0
        /// Added one-way delay.
        public var delay: Duration = .zero
        /// When the loss ends: a copy sent again after it arrives (a retransmission's fate is decided when it is sent,
        /// not when the first copy was: seed 5000509, where losses drawn 1.2 s before a lossy path healed held a
        /// connection's replies 11 s after it).
        public var lossyUntil: MonotonicInstant = .zero
    }

    enum Phase: Equatable {
        case connecting
        case open
        /// The connect failed (errno), or the peer reset an open connection (reason).
        case failed(Int32)
        case reset(String)
        case closed
    }

    struct Connection {
        var replica: Int
        var phase: Phase = .connecting
        var interest: NetworkEvents = []
        /// Arrived at the agent, not yet read.
        var inbound: [UInt8] = []
        /// Arrived at the replica, not yet framed into messages (or held while it is stopped).
        var atReplica: [UInt8] = []
        /// Sent by the agent, not yet acknowledged by the replica's host: (sent at, bytes).
        var unacknowledged: [(at: MonotonicInstant, bytes: Int)] = []
        /// What the agent's kernel sent again (its own segments lost on the way out).
        var retransmissions: UInt32 = 0
        /// Segments from the replica that reached the agent's kernel while an earlier one was missing.
        var outOfOrder: UInt32 = 0
        /// When the latest segment from the replica is handed to the agent: TCP delivers in order, so a segment never
        /// comes before one sent ahead of it.
        var inboundInOrderAt: MonotonicInstant = .zero
        var lastSend: MonotonicInstant = .zero
        var lastAck: MonotonicInstant = .zero
        /// The client that spoke on it (a ping's or a request's), so replies find it.
        var client: UInt128?
        /// Written while the path was cut, each way: sent again when it is restored.
        var heldOut: [[UInt8]] = []
        var heldIn: [[UInt8]] = []
    }

    enum Event {
        case connectDecided(Int32)
        case arriveAtReplica(Int32, [UInt8])
        case acknowledged(Int32)
        case arriveAtAgent(Int32, [UInt8])
        /// A segment from the replica reaches the agent's kernel ahead of one lost before it.
        case arrivesOutOfOrder(Int32)
        /// A host name's answer is ready.
        case nameResolved(UInt64, Result<SocketAddress, NameFailure>)
        case resetArrives(Int32)
    }

    public let cluster: SimulatedCluster
    public private(set) var paths: [Path]
    private let clock: SimulatedClock
    private let ports: [String]
    private var random: SeededRandom
    private var connections: [Int32: Connection] = [:]
    private var nextID: Int32 = 100
    private var events: [(at: MonotonicInstant, sequence: UInt64, event: Event)] = []
    private var sequence: UInt64 = 0
    /// When the prober's loop asked to be woken at the latest (its wait's timeout).
    public private(set) var loopWakesAt: MonotonicInstant = .distantFuture
    private var woken = false
    /// The first message the agent wrote that a replica must never read, and why.
    public private(set) var forbidden: String?
    /// Messages the agent wrote, by kind.
    public private(set) var sent: [String: Int] = [:]
    /// The simulated world's names: host → numeric address (any other name does not resolve), and how long a lookup takes.
    public var names: [String: String] = [:]
    public var nameLookup: Duration = .milliseconds(5)
    /// Names resolved, not yet taken by the loop.
    private var resolved: [(id: UInt64, answer: Result<SocketAddress, NameFailure>)] = []

    /// - Parameter addresses: each replica's address as the agent is configured with it (`host:port`, numeric).
    public init(cluster: SimulatedCluster, addresses: [String], clock: SimulatedClock, random: SeededRandom) {
        precondition(addresses.count == cluster.count, "an address per replica")
        self.cluster = cluster
        self.clock = clock
        self.ports = addresses
        var random = random
        paths = addresses.map { _ in Path(latency: .nanoseconds(random.int(100_000...2_000_000))) }
        self.random = random
    }

    // MARK: The simulation's side

    /// When the next event is due (nil: none).
    public var nextEventAt: MonotonicInstant? { events.first?.at }

    /// Whether a `wake()` came since the loop last waited.
    public var isWoken: Bool { woken }

    /// Changes the path to replica `i`. Restoring a cut sends what waited on it.
    public func set(path i: Int, _ path: Path) {
        let wasCut = paths[i].cut
        paths[i] = path
        if wasCut && !path.cut { retransmitAfterCut(i) }
    }

    /// Replica `i` crashed: its open connections are reset (the RST reaches the agent unless the path is cut).
    public func crashed(_ i: Int) {
        for id in connections.keys.sorted() where connections[id]!.replica == i && connections[id]!.phase == .open {
            connections[id]!.atReplica = []
            if !paths[i].cut { schedule(.resetArrives(id), after: paths[i].latency) }
        }
    }

    /// Replica `i` runs again after a stop: what its kernel held is read now.
    public func resumed(_ i: Int) {
        for id in connections.keys.sorted() where connections[id]!.replica == i { readAtReplica(id) }
    }

    /// Runs every event due by now, in order.
    public func pump() {
        while let first = events.first, first.at <= clock.now {
            events.removeFirst()
            run(first.event)
        }
    }

    // MARK: ProbeNetwork

    public func connect(to address: SocketAddress) -> ConnectStart {
        guard let i = ports.firstIndex(of: address.numeric) else { return .failed(errno: ENETUNREACH) }
        let id = nextID
        nextID += 1
        connections[id] = Connection(replica: i)
        // A cut path loses the SYN: nothing is decided (the prober times out). Otherwise the answer comes after a round trip.
        if !paths[i].cut { schedule(.connectDecided(id), after: oneWay(i) * 2) }
        return .inProgress(NetworkConnection(id))
    }

    public func interest(_ connection: NetworkConnection, _ events: NetworkEvents) {
        precondition(connections[connection.id] != nil, "interest in an unknown \(connection)")
        connections[connection.id]!.interest = events
    }

    public func connectError(_ connection: NetworkConnection) -> Int32 {
        guard case .failed(let code) = connections[connection.id]?.phase else { return 0 }
        return code
    }

    public func send(_ connection: NetworkConnection, _ bytes: [UInt8]) -> SendResult {
        guard var state = connections[connection.id] else { preconditionFailure("a send on an unknown \(connection)") }
        switch state.phase {
        case .open: break
        case .reset(let reason): return .failed(reason)
        default: preconditionFailure("a send on \(connection) while \(state.phase)")
        }
        let allowed = inspect(bytes, on: &state)
        state.lastSend = clock.now
        state.unacknowledged.append((clock.now, bytes.count))
        let i = state.replica
        if paths[i].cut && allowed { state.heldOut.append(bytes) }
        connections[connection.id] = state
        // What no replica may read is not delivered: the invariant fails instead of the replica.
        if !paths[i].cut && allowed {
            let (cost, copiesLost) = loss(i)
            connections[connection.id]!.retransmissions += copiesLost
            schedule(.arriveAtReplica(connection.id, bytes), after: oneWay(i) + cost)
        }
        return .wrote(bytes.count)
    }

    public func receive(_ connection: NetworkConnection, into buffer: inout [UInt8]) -> ReceiveResult {
        guard let state = connections[connection.id] else { preconditionFailure("a receive on an unknown \(connection)") }
        if !state.inbound.isEmpty {
            let count = min(buffer.count, state.inbound.count)
            buffer.replaceSubrange(0..<count, with: state.inbound[0..<count])
            connections[connection.id]!.inbound.removeFirst(count)
            return .bytes(count)
        }
        if case .reset(let reason) = state.phase { return .closed(reason) }
        return .wouldBlock
    }

    public func close(_ connection: NetworkConnection) {
        precondition(connections.removeValue(forKey: connection.id) != nil, "closing an unknown \(connection)")
    }

    public func path(_ connection: NetworkConnection) -> PathReport? {
        guard let state = connections[connection.id], state.phase == .open else { return nil }
        let latency = oneWay(state.replica)
        return PathReport(
            unacknowledged: UInt32(state.unacknowledged.count),
            unacknowledgedBytes: UInt32(state.unacknowledged.reduce(0) { $0 + $1.bytes }),
            retransmissions: state.retransmissions, outOfOrderReceived: state.outOfOrder,
            roundTripMicroseconds: UInt32(clamping: (latency * 2).nanoseconds / 1_000),
            millisecondsSinceLastSend: UInt32(clamping: (clock.now - state.lastSend).nanoseconds / 1_000_000),
            millisecondsSinceLastAck: UInt32(clamping: (clock.now - max(state.lastAck, .zero)).nanoseconds / 1_000_000))
    }

    public func wait(milliseconds: Int32, events ready: inout [(NetworkConnection, NetworkEvents)]) -> Bool {
        ready.removeAll(keepingCapacity: true)
        loopWakesAt = milliseconds < 0 ? .distantFuture : clock.now + .milliseconds(milliseconds)
        for id in connections.keys.sorted() {
            let state = connections[id]!
            var happened: NetworkEvents = []
            switch state.phase {
            case .connecting, .closed: break
            case .failed: happened = [.writable, .broken]
            case .open:
                if state.interest.contains(.writable) { happened.insert(.writable) }
                if state.interest.contains(.readable) && !state.inbound.isEmpty { happened.insert(.readable) }
            case .reset: happened = [.readable, .broken]
            }
            if !happened.isEmpty && !state.interest.isEmpty { ready.append((NetworkConnection(id), happened)) }
        }
        defer { woken = false }
        return woken
    }

    public func wake() { woken = true }

    public func resolve(_ request: NameRequest) {
        let answer: Result<SocketAddress, NameFailure> =
            names[request.address.host].flatMap { SocketAddress.numeric("\($0):\(request.address.port)") }.map { .success($0) }
            ?? .failure(.unresolvable(host: request.address.host))
        schedule(.nameResolved(request.id, answer), after: nameLookup)
    }

    public func resolvedNames() -> [(id: UInt64, answer: Result<SocketAddress, NameFailure>)] {
        defer { resolved.removeAll() }
        return resolved
    }

    public func shutdown() {}

    /// Whether the loop has anything to handle now (events it would be given).
    public var hasReadyEvents: Bool {
        connections.values.contains { state in
            guard !state.interest.isEmpty else { return false }
            switch state.phase {
            case .connecting, .closed: return false
            case .failed, .reset: return true
            case .open: return state.interest.contains(.writable) || (state.interest.contains(.readable) && !state.inbound.isEmpty)
            }
        }
    }

    // MARK: Inside

    private func oneWay(_ i: Int) -> Duration { paths[i].latency + paths[i].delay }

    /// What losses cost one segment on replica `i`'s path: each lost copy a retransmission timeout (200 ms, doubling),
    /// paid by whichever end sent it; a copy sent once the loss has ended arrives.
    private func loss(_ i: Int) -> (cost: Duration, copiesLost: UInt32) {
        var cost: Duration = .zero
        var copiesLost: UInt32 = 0
        var timeout: Duration = .milliseconds(200)
        while paths[i].loss > 0 && clock.now + cost < paths[i].lossyUntil && random.chance(paths[i].loss) && cost < .seconds(10) {
            cost += timeout
            timeout *= 2
            copiesLost += 1
        }
        return (cost, copiesLost)
    }

    private func schedule(_ event: Event, after delay: Duration) {
        sequence += 1
        let entry = (at: clock.now + delay, sequence: sequence, event: event)
        let index = events.firstIndex { ($0.at, $0.sequence) > (entry.at, entry.sequence) } ?? events.endIndex
        events.insert(entry, at: index)
    }

    private func run(_ event: Event) {
        switch event {
        case .connectDecided(let id):
            guard let state = connections[id], state.phase == .connecting else { return }
            connections[id]!.phase = cluster.replicas[state.replica].process == .crashed ? .failed(ECONNREFUSED) : .open
        case .arriveAtReplica(let id, let bytes):
            guard let state = connections[id], state.phase == .open else { return }
            let i = state.replica
            // The replica's host acknowledges what arrives, stopped or not; a crashed one resets.
            guard cluster.replicas[i].process != .crashed else {
                if !paths[i].cut { schedule(.resetArrives(id), after: oneWay(i)) }
                return
            }
            connections[id]!.atReplica += bytes
            if !paths[i].cut { schedule(.acknowledged(id), after: oneWay(i)) }
            readAtReplica(id)
        case .acknowledged(let id):
            guard connections[id] != nil, !connections[id]!.unacknowledged.isEmpty else { return }
            connections[id]!.unacknowledged.removeFirst()
            connections[id]!.lastAck = clock.now
        case .arriveAtAgent(let id, let bytes):
            guard let state = connections[id], state.phase == .open else { return }
            connections[id]!.inbound += bytes
        case .arrivesOutOfOrder(let id):
            guard let state = connections[id], state.phase == .open else { return }
            connections[id]!.outOfOrder += 1
        case .nameResolved(let id, let answer):
            resolved.append((id, answer))
            woken = true
        case .resetArrives(let id):
            guard let state = connections[id], state.phase == .open || state.phase == .connecting else { return }
            connections[id]!.phase = state.phase == .connecting ? .failed(ECONNREFUSED) : .reset("Connection reset by peer")
        }
    }

    /// Replica `i` reads the whole messages waiting on connection `id`, if it runs, and answers them.
    private func readAtReplica(_ id: Int32) {
        guard let state = connections[id], cluster.replicas[state.replica].process == .running else { return }
        var buffer = state.atReplica
        connections[id]!.atReplica = []
        while buffer.count >= 256 {
            let size = Int(ReplicaReplies.get(UInt32.self, at: 96, Array(buffer.prefix(256))))
            guard size >= 256, size <= 1 << 20 else {
                drop(id, reason: "a message of \(size) bytes")
                return
            }
            guard buffer.count >= size else { break }
            let message = Array(buffer.prefix(size))
            buffer.removeFirst(size)
            switch cluster.answer(message, at: state.replica, now: clock.now) {
            case .close:
                drop(id, reason: "closed by the replica")
                return
            case .replies(let replies):
                for (replica, bytes) in replies { deliver(bytes, from: replica, to: connections[id]!.client) }
            }
        }
        connections[id]?.atReplica = buffer
    }

    /// A replica sends `bytes` on its connection from `client`, if it has one (none: the reply is lost, as in 0.17.9).
    private func deliver(_ bytes: [UInt8], from replica: Int, to client: UInt128?) {
        guard let client,
            let id = connections.keys.sorted().first(where: {
                connections[$0]!.replica == replica && connections[$0]!.client == client && connections[$0]!.phase == .open
            })
        else { return }
        if paths[replica].cut {
            connections[id]!.heldIn.append(bytes)
        } else {
            // Lost on the way back, it is the replica's host that sends it again: the agent's kernel sees the segments
            // behind it arrive out of order, and hands everything over in order once the hole is filled.
            let arrives = clock.now + oneWay(replica) + loss(replica).cost
            let handed = max(arrives, connections[id]!.inboundInOrderAt)
            if handed > arrives { schedule(.arrivesOutOfOrder(id), after: arrives - clock.now) }
            connections[id]!.inboundInOrderAt = handed
            schedule(.arriveAtAgent(id, bytes), after: handed - clock.now)
        }
    }

    private func drop(_ id: Int32, reason: String) {
        if !paths[connections[id]!.replica].cut { schedule(.resetArrives(id), after: oneWay(connections[id]!.replica)) }
        connections[id]!.atReplica = []
    }

    private func retransmitAfterCut(_ i: Int) {
        for id in connections.keys.sorted() where connections[id]!.replica == i {
            switch connections[id]!.phase {
            case .connecting: schedule(.connectDecided(id), after: oneWay(i) * 2)
            case .open:
                // What waited is sent again, in order, once (TCP's sequence numbers).
                let (out, into) = (connections[id]!.heldOut, connections[id]!.heldIn)
                connections[id]!.heldOut = []
                connections[id]!.heldIn = []
                if !out.isEmpty || !into.isEmpty { connections[id]!.retransmissions += 1 }
                for bytes in out { schedule(.arriveAtReplica(id, bytes), after: oneWay(i)) }
                for bytes in into { schedule(.arriveAtAgent(id, bytes), after: oneWay(i)) }
                if !into.isEmpty { connections[id]!.inboundInOrderAt = max(connections[id]!.inboundInOrderAt, clock.now + oneWay(i)) }
            default: break
            }
        }
    }

    /// Checks a message the agent writes: only ping_client, register and lookup_accounts, checksummed, may leave.
    private func inspect(_ bytes: [UInt8], on state: inout Connection) -> Bool {
        let before = forbidden
        var offset = 0
        while offset + 256 <= bytes.count {
            let message = Array(bytes[offset...])
            let size = Int(ReplicaReplies.get(UInt32.self, at: 96, Array(message.prefix(256))))
            guard size >= 256, offset + size <= bytes.count else {
                forbid("a message whose size (\(size)) is not what was written")
                return false
            }
            let whole = Array(message.prefix(size))
            switch whole[114] {
            case PingClient.command:
                let ping = ReplicaReplies.readPing(whole)
                if !ping.checksumValid || ping.cluster != cluster.id { forbid("a ping_client with a bad checksum or cluster") }
                state.client = ping.client
                sent["ping_client", default: 0] += 1
            case CanaryRequest.command:
                let request = ReplicaReplies.readRequest(whole)
                guard [CanaryRequest.registerOperation, CanaryRequest.lookupAccountsOperation].contains(request.operation) else {
                    forbid("a request with operation \(request.operation)")
                    return false
                }
                if !request.checksumsValid || request.cluster != cluster.id { forbid("a request with a bad checksum or cluster") }
                state.client = request.client
                sent[request.operation == CanaryRequest.registerOperation ? "register" : "lookup_accounts", default: 0] += 1
            default:
                forbid("command \(whole[114])")
                return false
            }
            offset += size
        }
        if offset != bytes.count { forbid("\(bytes.count - offset) bytes that are no whole message") }
        return before == forbidden
    }

    private func forbid(_ what: String) {
        if forbidden == nil { forbidden = what }
    }
}
