import CNetShim
import Config
import Foundation
import Glibc
import Logging

/// Reads StatsD datagrams from a UDP socket in batches (`recvmmsg`) and hands
/// them to the ingest queue. It does nothing else, so it never waits on
/// parsing, scraping or alerting.
final class UDPReceiver: @unchecked Sendable {
    static let batchSize = 64
    static let maxDatagram = 65_536

    let fd: Int32
    let port: UInt16
    /// What the kernel granted for `SO_RCVBUF` (Linux reports twice the request).
    let receiveBufferBytes: Int
    private let queue: IngestQueue
    private let logger: Logger
    private let worker = WorkerThread(name: "statsd-receiver")

    init(address: HostPort, readBuffer: Int, queue: IngestQueue, logger: Logger) throws {
        let resolved = try SocketAddress.resolve(address, socketType: BW_SOCK_DGRAM, passive: true)
        let fd = socket(resolved.family, BW_SOCK_DGRAM | BW_SOCK_CLOEXEC, 0)
        guard fd >= 0 else { throw SystemError("creating the StatsD socket") }
        var size = Int32(clamping: readBuffer)
        // SO_RCVBUFFORCE passes net.core.rmem_max with CAP_NET_ADMIN; otherwise the capped SO_RCVBUF.
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(4)) != 0 {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(4))
        }
        let bound = resolved.withSockaddr { bind(fd, $0, $1) }
        guard bound == 0 else {
            let error = SystemError("binding StatsD UDP \(address)")
            close(fd)
            throw error
        }
        var granted: Int32 = 0
        var length = socklen_t(4)
        getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &granted, &length)
        self.fd = fd
        self.port = SocketAddress.boundPort(of: fd)
        self.receiveBufferBytes = Int(granted)
        self.queue = queue
        self.logger = logger
        if Int(granted) / 2 < readBuffer {
            // The default asks for more than most hosts grant without CAP_NET_ADMIN (containers): said once at info,
            // with the figure the gauge beetlewatch_statsd_receive_buffer_bytes keeps. A size set on purpose warns.
            logger.log(
                level: readBuffer == AgentConfig.defaultStatsDReadBuffer ? .info : .warning,
                "StatsD receive buffer smaller than asked",
                metadata: [
                    "asked": "\(readBuffer)", "granted": "\(granted / 2)",
                    "hint": "raise net.core.rmem_max or run with CAP_NET_ADMIN",
                ])
        }
    }

    deinit { close(fd) }

    func start() {
        worker.start(qualityOfService: .userInteractive) { [self] in receiveLoop() }
    }

    /// Stops reading; returns once the reader thread has finished. Shutting the socket's receive side wakes the
    /// reader from its blocking `recvmmsg` (no timeout to poll a flag with).
    func stop() {
        guard worker.requestStop() else { return }
        _ = shutdown(fd, Int32(SHUT_RD))
        _ = worker.join(waitingAtMost: .seconds(5))
    }

    private func receiveLoop() {
        let count = Self.batchSize
        let area = UnsafeMutableRawPointer.allocate(byteCount: count * Self.maxDatagram, alignment: 16)
        let iovecs = UnsafeMutablePointer<iovec>.allocate(capacity: count)
        let headers = UnsafeMutablePointer<bw_mmsghdr>.allocate(capacity: count)
        defer {
            area.deallocate()
            iovecs.deallocate()
            headers.deallocate()
        }
        for i in 0..<count {
            iovecs[i] = iovec(iov_base: area + i * Self.maxDatagram, iov_len: Self.maxDatagram)
        }
        while worker.isRunning {
            for i in 0..<count {
                headers[i] = bw_mmsghdr()
                headers[i].msg_hdr.msg_iov = iovecs + i
                headers[i].msg_hdr.msg_iovlen = 1
            }
            let received = bw_recvmmsg(fd, headers, UInt32(count), BW_MSG_WAITFORONE)
            if received < 0 {
                let code = errno
                if code != EAGAIN && code != EWOULDBLOCK && code != EINTR {
                    logger.error("StatsD receive failed", metadata: ["error": "\(SystemError("recvmmsg", code: code))"])
                    usleep(10_000)
                }
                continue
            }
            // Once the receive side is shut, each read "receives" an empty datagram: not handed on.
            let stopping = !worker.isRunning
            for i in 0..<Int(received) where !(stopping && headers[i].msg_len == 0) {
                queue.append(area + i * Self.maxDatagram, Int(headers[i].msg_len))
            }
            // Hand the batch over at once; until the ingest thread takes it, later batches join the same chunk.
            queue.flush()
        }
        queue.flush()
    }

    /// The kernel's drop counter for this socket, asked of the socket itself (`SO_MEMINFO`); nil where the
    /// kernel does not report it. (Reading `/proc/net/udp` instead missed the socket's row whenever the
    /// table outgrew the one page Foundation read of it: about 30 sockets on the host.)
    func kernelDrops() -> UInt64? {
        var drops: UInt64 = 0
        return bw_socket_drops(fd, &drops) == 0 ? drops : nil
    }
}
