import AgentTestSupport
import Foundation
import Glibc
import Synchronization
import TestSupport
import Testing

/// A blocking GET of /metrics over a raw socket: (status line starts with 200, seconds).
func rawScrape(port: UInt16, from source: String = "127.0.0.1") -> (ok: Bool, seconds: Double) {
    let answer = rawRequest(port: port, "GET /metrics HTTP/1.0\r\n\r\n", from: source)
    return (answer.status == 200, answer.seconds)
}

/// A loopback TCP socket from `source` (any 127.x address) to `port`, connected, or -1.
func loopbackConnection(to port: UInt16, from source: String = "127.0.0.1", receiveTimeout: Int = 10) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var timeout = timeval(tv_sec: receiveTimeout, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var local = sockaddr_in()
    local.sin_family = sa_family_t(AF_INET)
    local.sin_addr.s_addr = inet_addr(source)
    _ = withUnsafePointer(to: &local) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = port.bigEndian
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        close(fd)
        return -1
    }
    return fd
}

/// Sends `request` as is and reads the answer to its end: (status code or nil, head, body, seconds).
func rawRequest(port: UInt16, _ request: String, from source: String = "127.0.0.1") -> (
    status: Int?, head: String, body: String, seconds: Double
) {
    let start = Date()
    let fd = loopbackConnection(to: port, from: source)
    guard fd >= 0 else { return (nil, "", "", Date().timeIntervalSince(start)) }
    defer { close(fd) }
    _ = request.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
    var buffer = [UInt8](repeating: 0, count: 65536)
    var answer = [UInt8]()
    while true {
        let n = recv(fd, &buffer, buffer.count, 0)
        if n <= 0 { break }
        answer += buffer[0..<n]
    }
    let text = String(decoding: answer, as: UTF8.self)
    let split = text.range(of: "\r\n\r\n")
    let head = split.map { String(text[..<$0.lowerBound]) } ?? text
    let status = head.hasPrefix("HTTP/1.") ? Int(head.dropFirst(9).prefix(3)) : nil
    return (status, head, split.map { String(text[$0.upperBound...]) } ?? "", Date().timeIntervalSince(start))
}

@Suite(.serialized, .timeLimit(.minutes(1)), .tags(.endToEnd)) struct HTTPHardeningTests {
    /// 100 clients (from four addresses: one address holds at most `connectionsPerIP`) scraping at once,
    /// and a slowloris client holding a half-sent request: every scrape is answered, and a scrape beside them stays fast.
    @Test func metricsKeepsAnsweringUnder100ClientsAndASlowloris() async throws {
        let test = try TestAgent.start()
        defer { test.stop() }
        try await test.sendCapture()
        let port = test.agent.webPort

        // Slowloris: connects and dribbles a request that never ends.
        let slow = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(slow) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(slow, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        _ = "GET /metrics HTTP/1.1\r\nX-Slow: ".withCString { send(slow, $0, strlen($0), Int32(MSG_NOSIGNAL)) }

        let failures = Atomic<Int>(0)
        let slowest = Mutex<Double>(0)
        // 100 threads, released together, each scraping three times.
        let group = DispatchGroup()
        let go = DispatchSemaphore(value: 0)
        for client in 0..<100 {
            group.enter()
            Thread {
                go.wait()
                for _ in 0..<3 {
                    let result = rawScrape(port: port, from: "127.0.0.\(1 + client % 4)")
                    if !result.ok { failures.add(1, ordering: .relaxed) }
                    slowest.withLock { $0 = max($0, result.seconds) }
                }
                group.leave()
            }.start()
        }
        for _ in 0..<100 { go.signal() }
        _ = "x".withCString { send(slow, $0, 1, Int32(MSG_NOSIGNAL)) }
        group.wait()
        #expect(failures.load(ordering: .relaxed) == 0)
        let beside = rawScrape(port: port)
        #expect(beside.ok)
        #expect(beside.seconds < 1, "a scrape took \(beside.seconds)s beside the slowloris")
        print(
            "100 clients × 3 scrapes: slowest \(String(format: "%.0f", slowest.withLock { $0 } * 1000)) ms; a scrape beside a slowloris: \(String(format: "%.1f", beside.seconds * 1000)) ms"
        )
    }
}
