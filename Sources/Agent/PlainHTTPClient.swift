import Config
import Foundation
import Glibc

/// A small HTTP/1.1 POST over a plain socket, for `http://` receivers. Every failure is a value:
/// swift-corelibs-foundation's URLSession kills the process when a server closes mid-response
/// ("Transfer completed, but there's no response"), and a receiver must never be able to do that.
enum PlainHTTPClient {
    static func post(_ body: Data, to url: URL, headers: [String: String], timeout: Double) -> HTTPPost.Outcome {
        let deadline = WallClock.monotonic() + Int64(timeout * 1e9)
        guard let host = url.host, !host.isEmpty else { return .init(status: nil, error: "no host in \(url)") }
        let port = UInt16(url.port ?? 80)
        var path = url.path.isEmpty ? "/" : url.path
        if let query = url.query { path += "?" + query }
        let fd: Int32
        switch TCPConnect.open(HostPort(host: host, port: port), deadline: deadline) {
        case .success(let connected): fd = connected
        case .failure(.unresolvable(let name)): return .init(status: nil, error: "cannot resolve \(name)")
        case .failure(.timedOut): return .init(status: nil, error: "connect timed out")
        case .failure(.system(let reason)): return .init(status: nil, error: reason)
        }
        defer { close(fd) }
        var request = "POST \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUser-Agent: beetlewatch/\(Agent.version)\r\n"
        request += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
        for (name, value) in headers where name.lowercased() != "content-type" {
            // No header injection: drop CR and LF from configured values.
            request += "\(name.filter { $0 != "\r" && $0 != "\n" }): \(value.filter { $0 != "\r" && $0 != "\n" })\r\n"
        }
        let bytes = Array((request + "\r\n").utf8) + Array(body)
        var sent = 0
        while sent < bytes.count {
            guard TCPConnect.wait(fd, for: Int16(POLLOUT), until: deadline) else { return .init(status: nil, error: "send timed out") }
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                return .init(status: nil, error: String(cString: strerror(errno)))
            }
            sent += n
        }
        // The status is all we need, but only from a complete header block: a response cut off
        // before its headers end is a failure (and retried), as Go's client treats it.
        var response = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        func headersComplete() -> Bool {
            response.count >= 4 && (0...(response.count - 4)).contains { response[$0] == 13 && response[$0 + 1] == 10 && response[$0 + 2] == 13 && response[$0 + 3] == 10 }
        }
        while !headersComplete() && response.count < 65536 {
            guard TCPConnect.wait(fd, for: Int16(POLLIN), until: deadline) else { return .init(status: nil, error: "timed out after \(timeout)s waiting for a response") }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 { return .init(status: nil, error: "connection closed before a complete response") }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                return .init(status: nil, error: String(cString: strerror(errno)))
            }
            response += buffer[0..<n]
        }
        let statusLine = String(decoding: response.prefix { $0 != 0x0D && $0 != 0x0A }, as: UTF8.self)
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else {
            return .init(status: nil, error: "not an HTTP response: \(statusLine.prefix(40))")
        }
        return .init(status: status, error: nil)
    }
}
