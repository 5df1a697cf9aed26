import Foundation
import Glibc
import Synchronization

/// A real HTTP server on 127.0.0.1 that records the bodies POSTed to it and answers
/// with a chosen status: the test's webhook receiver.
public final class WebhookRecorder: @unchecked Sendable {
    public struct Request {
        public var path: String
        public var headers: [String: String]
        public var body: Data
        public var at: Date
        /// The status it was answered with.
        public var status: Int = 200
    }

    public let port: UInt16
    private var fd: Int32 = -1
    private let requests = Mutex<[Request]>([])
    private let status = Mutex(200)
    /// Seconds to wait before answering (a slow receiver).
    public let delay = Mutex<Double>(0)
    /// How many of the next requests get half a response and a closed connection.
    public let closeMidResponse = Mutex(0)
    private let running = Atomic<Bool>(false)

    /// Binds a port; `listening: false` leaves it closed (connections refused) until `listen()`.
    public init(port: UInt16 = 0, listening: Bool = true) {
        self.port = port == 0 ? LoopbackListener.closedPort() : port
        if listening { listen() }
    }

    public var received: [Request] { requests.withLock { $0 } }

    public func respond(with code: Int) { status.withLock { $0 = code } }

    public func listen() {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, 4)
        precondition(LoopbackListener.bind(fd, port: port), "cannot bind 127.0.0.1:\(port)")
        Glibc.listen(fd, 64)
        running.store(true, ordering: .relaxed)
        let listener = fd
        Thread { [self] in
            while running.load(ordering: .relaxed) {
                let client = accept(listener, nil, nil)
                if client < 0 { return }
                var timeout = timeval(tv_sec: 5, tv_usec: 0)
                setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                Thread { [self] in serve(client) }.start()
            }
        }.start()
    }

    public func close() {
        running.store(false, ordering: .relaxed)
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
    }

    private func serve(_ client: Int32) {
        defer { Glibc.close(client) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        var headerEnd: Range<Data.Index>?
        var contentLength = 0
        while true {
            let n = recv(client, &buffer, buffer.count, 0)
            if n <= 0 { return }
            data.append(contentsOf: buffer[0..<n])
            if headerEnd == nil, let end = data.range(of: Data("\r\n\r\n".utf8)) {
                headerEnd = end
                let head = String(decoding: data[..<end.lowerBound], as: UTF8.self)
                for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                    contentLength = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            if let end = headerEnd, data.count - end.upperBound >= contentLength { break }
        }
        let end = headerEnd!
        let head = String(decoding: data[..<end.lowerBound], as: UTF8.self).split(separator: "\r\n")
        let path = head.first?.split(separator: " ").dropFirst().first.map(String.init) ?? ""
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        let body = data[end.upperBound..<(end.upperBound + contentLength)]
        let code = status.withLock { $0 }
        let wait = delay.withLock { $0 }
        if wait > 0 { usleep(UInt32(wait * 1_000_000)) }
        let cut = closeMidResponse.withLock { remaining -> Bool in
            defer { remaining = max(0, remaining - 1) }
            return remaining > 0
        }
        if cut {
            _ = "HTTP/1.1 200 OK\r\nContent-Le".withCString { send(client, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            return
        }
        requests.withLock { $0.append(Request(path: path, headers: headers, body: Data(body), at: Date(), status: code)) }
        let reply = "HTTP/1.1 \(code) X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        _ = reply.withCString { send(client, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
    }
}
