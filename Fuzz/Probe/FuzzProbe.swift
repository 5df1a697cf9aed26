// libFuzzer target: one replica's probe session (the Probe and VSR sources) driven by a hostile replica.
// Each input is a script: every op byte picks an event (time passes, with or without what the kernel says of the
// path, any counters at all; connect succeeds or fails, the replica closes, bytes arrive: garbage, a pong echoing the
// last ping, an eviction, a reply for another cluster, a StatsD release hint, a reload). Any trap is a crash, and so is any byte string the session
// asks to send that is not a correctly checksummed ping_client header: a checksummed header with another
// command byte would crash a real replica.
// Built by Fuzz/run with -sanitize=fuzzer,address.
import Foundation

let cluster: UInt128 = 0x1f2f_0000_0000_0000_0000_0000_0000_abcd
let released = Release(major: 0, minor: 17, patch: 9)

/// Writes a reply header as a replica would: checksummed, with the given command.
func reply(command: UInt8, cluster: UInt128, replica: UInt8, view: UInt32, release: UInt32, word: UInt64) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: 256)
    HeaderLayout.put(PingClient.emptyBodyChecksum, at: HeaderLayout.checksumBody, in: &bytes)
    HeaderLayout.put(cluster, at: HeaderLayout.cluster, in: &bytes)
    HeaderLayout.put(UInt32(256), at: HeaderLayout.size, in: &bytes)
    HeaderLayout.put(view, at: HeaderLayout.view, in: &bytes)
    HeaderLayout.put(release, at: HeaderLayout.release, in: &bytes)
    bytes[HeaderLayout.command] = command
    bytes[HeaderLayout.replica] = replica
    HeaderLayout.put(word, at: HeaderLayout.pongTimestamp, in: &bytes)
    bytes[HeaderLayout.evictionReason] = UInt8(truncatingIfNeeded: word)
    HeaderLayout.put(AEGIS128L.checksum(bytes[16..<256]), at: 0, in: &bytes)
    return bytes
}

func check(_ commands: [ProbeSession.Command]) {
    for case .send(let bytes) in commands {
        guard bytes.count == 256, bytes[HeaderLayout.command] == PingClient.command,
            HeaderLayout.get(UInt128.self, at: HeaderLayout.cluster, in: bytes) == cluster,
            Array(bytes[0..<16]) == AEGIS128L.checksum(bytes[16..<256])
        else { fatalError("the session asked to send something other than a ping_client: \(bytes)") }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let input = UnsafeBufferPointer(start: data, count: size)
    var session = ProbeSession(
        cluster: cluster, client: ClientID(7)!,
        timing: ProbeTiming(interval: .seconds(1), timeout: .seconds(1), defaultRelease: released), start: .zero)
    var now: MonotonicInstant = .zero
    var lastTimestamp: UInt64 = 0
    var i = 0
    func next() -> UInt8 {
        defer { i += 1 }
        return i < input.count ? input[i] : 0
    }
    while i < input.count {
        let op = next()
        var commands: [ProbeSession.Command] = []
        switch op % 10 {
        case 0:
            now += .milliseconds(10) * Int(next()) + .nanoseconds(1)
            // Every other tick with a path report: acknowledged or not, retransmissions and out-of-order segments
            // going up, down or wrapping, any round trip.
            let path: PathReport? =
                next() & 1 == 0
                ? nil
                : PathReport(
                    unacknowledged: UInt32(next() % 4), unacknowledgedBytes: UInt32(next()) << 8,
                    retransmissions: UInt32(next()) << UInt32(next() % 25), outOfOrderReceived: UInt32(next()) << UInt32(next() % 25),
                    roundTripMicroseconds: UInt32(next()) << 12, millisecondsSinceLastSend: UInt32(next()) << 4,
                    millisecondsSinceLastAck: UInt32(next()) << 4)
            if now >= session.nextDeadline { commands = session.tick(now: now, path: path) }
        case 1: commands = session.connected(now: now)
        case 2:
            let count = Int(next())
            let start = min(i, input.count)
            let end = min(input.count, start + count)
            commands = session.received(Array(input[start..<end]), now: now)
            i = end
        case 3: session.closed("end of file", now: now)
        case 4: session.connectFailed("Connection refused", now: now)
        case 5:
            commands = session.received(
                reply(
                    command: ReplicaReply.pongCommand, cluster: cluster, replica: next(), view: UInt32(next()),
                    release: released.packed &+ UInt32(next() & 3), word: lastTimestamp), now: now)
        case 6:
            commands = session.received(
                reply(
                    command: next() & 1 == 0 ? ReplicaReply.evictionCommand : next(), cluster: cluster,
                    replica: 0, view: 0, release: released.packed, word: UInt64(next())), now: now)
        case 7:
            commands = session.received(
                reply(
                    command: ReplicaReply.pongCommand, cluster: cluster &+ 1, replica: 0, view: 0,
                    release: released.packed, word: lastTimestamp), now: now)
        case 8:
            session.releaseHint = Release(packed: UInt32(next()) << 24 | UInt32(next()) << 16 | UInt32(next()) << 8 | UInt32(next()))
        default:
            let mode: ProbeMode = next() & 1 == 0 ? .vsr : .tcp
            commands = session.update(
                ProbeTiming(
                    mode: mode, interval: .milliseconds(100) * Int(1 + next() % 20),
                    timeout: .milliseconds(10) * Int(1 + next() % 100), defaultRelease: released), now: now)
        }
        check(commands)
        for case .send(let bytes) in commands { lastTimestamp = HeaderLayout.get(UInt64.self, at: HeaderLayout.pingTimestamp, in: bytes) }
        // The session's own clock never runs backwards, and it always knows when it next needs a tick.
        precondition(session.nextDeadline > MonotonicInstant(nanoseconds: .min))
    }
    return 0
}
