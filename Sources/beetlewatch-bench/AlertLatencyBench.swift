import Agent
import Foundation
import Glibc
import Synchronization

/// From the datagram that turns replica_status non-zero (and back) to the webhook request
/// arriving at a loopback receiver in this process.
struct AlertLatencyBench {
    var transitions = 50

    func run(into results: inout BenchResults) throws {
        let receiver = try ArrivalRecorder()
        let agent = try AgentProcess(
            statsdPort: AgentProcess.freePort(udp: true), webPort: AgentProcess.freePort(udp: false),
            extraArguments: ["--alert.webhook-url", "http://127.0.0.1:\(receiver.port)/"])
        defer {
            agent.stop()
            receiver.close()
        }
        let fd = loopbackUDPSocket(port: agent.statsdPort)
        defer { close(fd) }
        let cluster = String(repeating: "0", count: 31) + "9"
        func status(_ value: Int) {
            let line = "tb.replica_status:\(value)|g|#cluster:\(cluster),replica:0"
            _ = line.withCString { send(fd, $0, strlen($0), 0) }
        }
        status(0)
        usleep(500_000)
        var latencies: [Double] = []
        for i in 0..<transitions {
            let before = receiver.count
            let sent = DispatchTime.now().uptimeNanoseconds
            status(i % 2 == 0 ? 1 : 0)
            let deadline = sent + 5_000_000_000
            while receiver.count == before && DispatchTime.now().uptimeNanoseconds < deadline { usleep(50) }
            if let arrived = receiver.lastArrival, receiver.count > before {
                latencies.append(Double(arrived - sent) / 1e6)
            }
            usleep(20_000)
        }
        latencies.sort()
        results.add("alert_latency_p50", percentile(latencies, 0.5), "ms", decimals: 2)
        results.add("alert_latency_p99", percentile(latencies, 0.99), "ms", decimals: 2)
        results.add("alert_latency_samples", Double(latencies.count), "transitions")
    }
}

/// A loopback HTTP receiver that notes when each request arrived, and its body.
final class ArrivalRecorder: @unchecked Sendable {
    let port: UInt16
    private let fd: Int32
    private let arrivals = Mutex<[UInt64]>([])
    private let bodies = Mutex<[Data]>([])

    init() throws {
        port = AgentProcess.freePort(udp: false)
        guard let listener = loopbackTCPListener(port: port) else { throw BenchError("cannot bind the receiver") }
        fd = listener
        acceptConnections(on: listener) { [self] client in Thread { [self] in serve(client) }.start() }
    }

    var count: Int { arrivals.withLock { $0.count } }
    var lastArrival: UInt64? { arrivals.withLock { $0.last } }
    var received: [Data] { bodies.withLock { $0 } }

    private func serve(_ client: Int32) {
        defer { Glibc.close(client) }
        var buffer = [UInt8](repeating: 0, count: 65536)
        var data = [UInt8]()
        var bodyStart: Int?
        while true {
            let n = recv(client, &buffer, buffer.count, 0)
            if n <= 0 { return }
            data += buffer[0..<n]
            guard let start = HTTPClient.headEnd(data) else { continue }
            bodyStart = start
            let length =
                String(decoding: data[..<start], as: UTF8.self).split(separator: "\r\n")
                .first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            if data.count - start >= length { break }
        }
        arrivals.withLock { $0.append(DispatchTime.now().uptimeNanoseconds) }
        if let bodyStart { bodies.withLock { $0.append(Data(data[bodyStart...])) } }
        let reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        _ = reply.withCString { send(client, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
    }

    func close() {
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
    }
}
