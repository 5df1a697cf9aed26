import Config
import Foundation

/// A small HTTP/1.1 POST for webhook receivers and Alertmanagers, over plain TCP or TLS (GnuTLS).
/// Every failure is a value: swift-corelibs-foundation's URLSession kills the process when a server
/// closes mid-response ("Transfer completed, but there's no response"), and a receiver must never
/// be able to do that.
enum HTTPClient {
    struct Outcome {
        /// The status code, or nil when no response came (connection error, timeout).
        var status: Int?
        var error: String?
    }

    static func post(_ body: Data, to url: URL, headers: [String: String], timeout: Double,
                     tls: ClientConnection.TLSOptions = .init()) -> Outcome {
        let deadline = WallClock.monotonic() + Int64(timeout * 1e9)
        guard let host = url.host, !host.isEmpty else { return .init(status: nil, error: "no host in \(url)") }
        let secure = url.scheme == "https"
        let port = UInt16(url.port ?? (secure ? 443 : 80))
        var path = url.path.isEmpty ? "/" : url.path
        if let query = url.query { path += "?" + query }
        let connection: ClientConnection
        switch ClientConnection.open(host: host, port: port, tls: secure ? tls : nil, deadline: deadline) {
        case .success(let opened): connection = opened
        case .failure(let error): return .init(status: nil, error: error.description)
        }
        let hostHeader = host.contains(":") ? "[\(host)]" : host
        var request = "POST \(path) HTTP/1.1\r\nHost: \(hostHeader):\(port)\r\nUser-Agent: beetlewatch/\(Agent.version)\r\n"
        request += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
        for (name, value) in headers where name.lowercased() != "content-type" {
            // No header injection: drop CR and LF from configured values.
            request += "\(name.filter { $0 != "\r" && $0 != "\n" }): \(value.filter { $0 != "\r" && $0 != "\n" })\r\n"
        }
        if let error = connection.write(Array((request + "\r\n").utf8) + Array(body), until: deadline) {
            return .init(status: nil, error: error.description)
        }
        // The status is all we need, but only from a complete header block: a response cut off
        // before its headers end is a failure (and retried), as Go's client treats it.
        var response = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        func headersComplete() -> Bool {
            response.count >= 4 && (0...(response.count - 4)).contains { response[$0] == 13 && response[$0 + 1] == 10 && response[$0 + 2] == 13 && response[$0 + 3] == 10 }
        }
        while !headersComplete() && response.count < 65536 {
            switch connection.read(into: &buffer, until: deadline) {
            case .success(0): return .init(status: nil, error: "connection closed before a complete response")
            case .success(let n): response += buffer[0..<n]
            case .failure(let error): return .init(status: nil, error: error.description)
            }
        }
        let statusLine = String(decoding: response.prefix { $0 != 0x0D && $0 != 0x0A }, as: UTF8.self)
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else {
            return .init(status: nil, error: "not an HTTP response: \(statusLine.prefix(40))")
        }
        return .init(status: status, error: nil)
    }
}
