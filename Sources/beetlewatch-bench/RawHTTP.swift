import Agent
import Foundation
import Glibc

/// A minimal blocking HTTP/1.0 GET over loopback, so scrape timings measure the server, not a client library.
enum RawHTTP {
    struct Reply {
        var status: Int
        /// The body's bytes; decode only when needed (a 50 MB page is timed, not parsed).
        var bodyBytes: ArraySlice<UInt8>
        var bytes: Int

        var body: String { String(decoding: bodyBytes, as: UTF8.self) }
    }

    static func get(port: UInt16, path: String) throws -> Reply {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw BenchError("connect to 127.0.0.1:\(port) failed") }
        let request = "GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        var data = [UInt8]()
        data.reserveCapacity(1 << 20)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        guard let headerEnd = HTTPClient.headEnd(data) else { throw BenchError("no HTTP response") }
        let statusLine = String(decoding: data[0..<min(data.count, 16)], as: UTF8.self)
        let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0
        return Reply(status: status, bodyBytes: data[headerEnd...], bytes: data.count)
    }
}
