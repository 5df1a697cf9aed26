// libFuzzer target: one cluster's canary session (the Probe and VSR sources) driven by hostile replicas. Each input is
// a script: every op byte picks an event (time passes, a connect succeeds or fails, a replica closes, bytes arrive:
// garbage, a reply answering the request in flight or another, an eviction, a pong with any view, a reload). Any trap
// is a crash, and so is any byte string the session asks to send that is not a correctly checksummed ping_client,
// register or lookup_accounts: a checksummed header with another command, or a request with another operation, would
// crash a real replica.
// Built by Fuzz/run with -sanitize=fuzzer,address.
import Foundation

let cluster: UInt128 = 0x1f2f_0000_0000_0000_0000_0000_0000_abcd
let released = Release(major: 0, minor: 17, patch: 9)
let client = ClientID(0xbee7)!

/// A message as a replica would send it: checksummed header and body.
func message(command: UInt8, view: UInt32, replica: UInt8, fields: [(Int, UInt128)], operation: UInt8, body: [UInt8]) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: 256) + body
    HeaderLayout.put(cluster, at: HeaderLayout.cluster, in: &bytes)
    HeaderLayout.put(UInt32(bytes.count), at: HeaderLayout.size, in: &bytes)
    HeaderLayout.put(view, at: HeaderLayout.view, in: &bytes)
    HeaderLayout.put(released.packed, at: HeaderLayout.release, in: &bytes)
    bytes[HeaderLayout.command] = command
    bytes[HeaderLayout.replica] = replica
    for (offset, value) in fields { HeaderLayout.put(value, at: offset, in: &bytes) }
    bytes[HeaderLayout.replyOperation] = operation
    HeaderLayout.put(AEGIS128L.checksum(bytes[256...]), at: HeaderLayout.checksumBody, in: &bytes)
    HeaderLayout.put(AEGIS128L.checksum(bytes[16..<256]), at: 0, in: &bytes)
    return bytes
}

/// A reply to `request` (the bytes the session sent), or to nothing when `answering` is false.
func reply(to request: [UInt8]?, answering: Bool, view: UInt32, commit: UInt64, found: Bool) -> [UInt8] {
    let checksum = answering ? request.map { HeaderLayout.get(UInt128.self, at: 0, in: $0) } ?? 7 : 7
    let operation = request.map { $0[HeaderLayout.requestOperation] } ?? CanaryRequest.lookupAccountsOperation
    let number = request.map { HeaderLayout.get(UInt32.self, at: HeaderLayout.requestNumber, in: $0) } ?? 1
    var body: [UInt8]
    if operation == CanaryRequest.registerOperation {
        body = [0x00, 0x7f, 0, 0] + [UInt8](repeating: 0, count: 60)
    } else {
        body = (found ? [UInt8](repeating: 1, count: 128) : []) + [UInt8](repeating: 0xff, count: 124) + [found ? 1 : 0, 0, 1, 0]
    }
    return message(
        command: CanaryReply.replyCommand, view: view, replica: UInt8(view % 3),
        fields: [
            (HeaderLayout.replyRequestChecksum, checksum), (HeaderLayout.replyContext, UInt128(commit) << 8),
            (HeaderLayout.replyClient, client.value), (HeaderLayout.replyOp, UInt128(commit)), (HeaderLayout.replyCommit, UInt128(commit)),
            (HeaderLayout.replyRequest, UInt128(number)),
        ], operation: operation, body: body)
}

func check(_ commands: [CanarySession.Command]) {
    for case .send(_, let bytes) in commands {
        let command = bytes[HeaderLayout.command]
        let checksummed =
            bytes.count >= 256 && HeaderLayout.get(UInt32.self, at: HeaderLayout.size, in: bytes) == UInt32(bytes.count)
            && Array(bytes[0..<16]) == AEGIS128L.checksum(bytes[16..<256])
            && Array(bytes[32..<48]) == AEGIS128L.checksum(bytes[256...])
            && HeaderLayout.get(UInt128.self, at: HeaderLayout.cluster, in: bytes) == cluster
        let ping = command == PingClient.command && bytes.count == 256
        let request =
            command == CanaryRequest.command
            && (bytes[HeaderLayout.requestOperation] == CanaryRequest.registerOperation && bytes.count == CanaryRequest.registerSize
                || bytes[HeaderLayout.requestOperation] == CanaryRequest.lookupAccountsOperation && bytes.count == CanaryRequest.lookupSize)
        guard checksummed && (ping || request) else {
            fatalError("the canary asked to send something other than ping_client, register or lookup_accounts: \(bytes)")
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let input = UnsafeBufferPointer(start: data, count: size)
    var session = CanarySession(
        cluster: cluster, client: client, replicaCount: 3,
        timing: CanaryTiming(interval: .seconds(1), timeout: .seconds(1), defaultRelease: released), start: .zero)
    var now: MonotonicInstant = .zero
    var lastRequest: [UInt8]?
    var i = 0
    func next() -> UInt8 {
        defer { i += 1 }
        return i < input.count ? input[i] : 0
    }
    while i < input.count {
        let op = next()
        let r = Int(next() % 3)
        var commands: [CanarySession.Command] = []
        switch op % 10 {
        case 0:
            now += .milliseconds(10) * Int(next()) + .nanoseconds(1)
            if now >= session.nextDeadline { commands = session.tick(now: now) }
        case 1: commands = session.connected(r, now: now)
        case 2:
            let count = Int(next())
            let start = min(i, input.count)
            let end = min(input.count, start + count)
            commands = session.received(r, Array(input[start..<end])[...], now: now)
            i = end
        case 3: session.closed(r, now: now)
        case 4: session.connectFailed(r, now: now)
        case 5, 6:
            commands = session.received(
                r,
                reply(to: lastRequest, answering: op % 10 == 5, view: UInt32(next()), commit: UInt64(next()) + 1, found: next() & 1 == 1)[
                    ...],
                now: now)
        case 7:
            commands = session.received(
                r,
                message(
                    command: ReplicaReply.evictionCommand, view: 1, replica: 1, fields: [(HeaderLayout.evictionClient, client.value)],
                    operation: 0, body: [])[...], now: now)
        case 8:
            var pong = message(
                command: ReplicaReply.pongCommand, view: UInt32(next()) << 24 | UInt32(next()), replica: UInt8(r), fields: [], operation: 0,
                body: [])
            pong[HeaderLayout.evictionReason] = 0
            commands = session.received(r, pong[...], now: now)
        default:
            session.update(
                CanaryTiming(
                    interval: .milliseconds(100) * Int(1 + next() % 20), timeout: .milliseconds(10) * Int(1 + next() % 100),
                    defaultRelease: released)
            )
        }
        check(commands)
        for case .send(_, let bytes) in commands where bytes[HeaderLayout.command] == CanaryRequest.command { lastRequest = bytes }
        // Its buffers stay bounded: a connection holds at most one message being read.
        precondition(session.connections.allSatisfy { $0.buffer.count < CanaryReply.maxSize + 256 })
    }
    return 0
}
