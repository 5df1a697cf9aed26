import CNetShim
import Foundation
import Glibc

/// Sends counter lines the way a busy StatsD client does: `sendmmsg` batches of 1400-byte
/// datagrams of ~100-byte lines over `labelSets` label sets, at a fixed offered rate.
/// Every line is `bench.lines:1|c|...`, so the agent's sum of `bench_lines` counts what arrived.
struct LoadSender {
    let datagrams: [[UInt8]]
    let linesPerDatagram: Int

    init(labelSets: Int = 1000, datagramSize: Int = 1400) {
        var lines: [String] = []
        for i in 0..<labelSets {
            lines.append("bench.lines:1|c|#service:checkout-\(i % 37),route:/api/v1/transfers/\(i),status:200,zone:eu-west-1\(i % 3)")
        }
        var datagrams: [[UInt8]] = []
        var current: [UInt8] = []
        var count = 0
        var perDatagram = 0
        var index = 0
        // Enough datagrams to cycle through every label set evenly.
        while datagrams.count < labelSets {
            let line = Array(lines[index % labelSets].utf8)
            index += 1
            if current.count + line.count + 1 > datagramSize {
                datagrams.append(current)
                perDatagram = max(perDatagram, count)
                current = []
                count = 0
            }
            current += line + [0x0A]
            count += 1
        }
        // Keep datagrams with the same number of lines so counting is exact.
        self.linesPerDatagram = perDatagram
        self.datagrams = datagrams.filter { $0.split(separator: 0x0A).count == perDatagram }
    }

    /// Sends `lines` lines to `port` at `rate` lines/s (0 = flat out); returns lines sent.
    /// `spin` paces by busy-waiting (exact, one core); otherwise by sleeping when ahead (leaves the core free).
    func send(to port: UInt16, lines: Int, rate: Double, spin: Bool = true) throws -> Int {
        let fd = loopbackUDPSocket(port: port)
        defer { close(fd) }
        let batch = 32
        let total = lines / linesPerDatagram
        let storage = datagrams.map { bytes -> UnsafeMutableRawBufferPointer in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
            buffer.copyBytes(from: bytes)
            return buffer
        }
        defer { storage.forEach { $0.deallocate() } }
        let iovecs = UnsafeMutablePointer<iovec>.allocate(capacity: batch)
        let headers = UnsafeMutablePointer<bw_mmsghdr>.allocate(capacity: batch)
        defer {
            iovecs.deallocate()
            headers.deallocate()
        }
        let start = DispatchTime.now().uptimeNanoseconds
        var sent = 0
        var next = 0
        while sent < total {
            if rate > 0 {
                // Pace: never ahead of the offered rate.
                let due = start + UInt64(Double(sent * linesPerDatagram) / rate * 1e9)
                if !spin, due > DispatchTime.now().uptimeNanoseconds + 1_000_000 {
                    usleep(UInt32((due - DispatchTime.now().uptimeNanoseconds) / 1_000))
                }
                while DispatchTime.now().uptimeNanoseconds < due {}
            }
            let n = min(batch, total - sent)
            for i in 0..<n {
                let buffer = storage[(next + i) % storage.count]
                iovecs[i] = iovec(iov_base: buffer.baseAddress, iov_len: buffer.count)
                headers[i] = bw_mmsghdr()
                headers[i].msg_hdr.msg_iov = iovecs + i
                headers[i].msg_hdr.msg_iovlen = 1
            }
            let done = bw_sendmmsg(fd, headers, UInt32(n), 0)
            if done < 0 {
                if errno == ENOBUFS || errno == EAGAIN { continue }
                throw BenchError("sendmmsg: \(String(cString: strerror(errno)))")
            }
            sent += Int(done)
            next += Int(done)
        }
        return sent * linesPerDatagram
    }
}
