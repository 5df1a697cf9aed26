import Config
import Foundation
import TigerBeetle

/// A small HTTP/1.1 client over plain TCP or TLS (GnuTLS): webhooks and Alertmanager pushes, and the
/// `check` and `status` commands. Every failure is a value: swift-corelibs-foundation's URLSession
/// kills the process when a server closes mid-response ("Transfer completed, but there's no
/// response"), and a receiver must never be able to do that.
public enum HTTPClient {
    public struct Response: Sendable {
        /// The status code, or nil when no complete response head came (connection error, timeout).
        public var status: Int?
        public var body: Data
        public var error: String?
    }

    /// How an https:// server's certificate is checked.
    public typealias TLSOptions = ClientConnection.TLSOptions

    /// POSTs JSON; only the status matters (the body is not read).
    /// - Parameter clock: what the timeout is on (the system's: the client waits in `poll`).
    static func post(
        _ body: Data, to url: URL, headers: [String: String], timeout: Double,
        tls: TLSOptions = .init(), clock: any AgentClock
    ) -> Response {
        request(
            "POST", url,
            headers: headers.filter { $0.key.lowercased() != "content-type" }.merging(["Content-Type": "application/json"]) { $1 },
            body: body,
            timeout: timeout, tls: tls, readBody: false, clock: clock)
    }

    /// GETs `url` and reads the whole body (for the commands that ask a running agent).
    public static func get(
        _ url: URL, headers: [String: String] = [:], timeout: Double, tls: TLSOptions = .init(), clock: any AgentClock
    ) -> Response {
        request("GET", url, headers: headers, body: nil, timeout: timeout, tls: tls, readBody: true, clock: clock)
    }

    static func request(
        _ method: String, _ url: URL, headers: [String: String], body: Data?, timeout: Double,
        tls: TLSOptions, readBody: Bool, clock: any AgentClock
    ) -> Response {
        func failure(_ reason: String) -> Response { Response(status: nil, body: Data(), error: reason) }
        // From 0 to a day (NaN: 0): a deadline stays far inside Int64, whatever the caller asked for.
        let seconds = timeout.isFinite ? min(max(timeout, 0), 86_400) : 0
        let deadline = clock.monotonic() + .nanoseconds(Int64(seconds * 1e9))
        guard let host = url.host, !host.isEmpty else { return failure("no host in \(url)") }
        let secure = url.scheme == "https"
        guard let port = UInt16(exactly: url.port ?? (secure ? 443 : 80)), port > 0 else {
            return failure("port \(url.port ?? 0) in \(url) is not from 1 to 65535")
        }
        var path = url.path.isEmpty ? "/" : url.path
        if let query = url.query { path += "?" + query }
        let connection: ClientConnection
        switch ClientConnection.open(host: host, port: port, tls: secure ? tls : nil, deadline: deadline, clock: clock) {
        case .success(let opened): connection = opened
        case .failure(let error): return failure(error.description)
        }
        let hostHeader = host.contains(":") ? "[\(host)]" : host
        var request =
            "\(method) \(path) HTTP/1.1\r\nHost: \(hostHeader):\(port)\r\nUser-Agent: beetlewatch/\(Agent.version)\r\nConnection: close\r\n"
        if let body { request += "Content-Length: \(body.count)\r\n" }
        for (name, value) in headers {
            // No header injection: drop CR and LF from configured values.
            request += "\(name.filter { $0 != "\r" && $0 != "\n" }): \(value.filter { $0 != "\r" && $0 != "\n" })\r\n"
        }
        if let error = connection.write(Array((request + "\r\n").utf8) + Array(body ?? Data()), until: deadline) {
            return failure(error.description)
        }
        // A response cut off before its head ends is a failure (and retried), as Go's client treats it.
        var response = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 16384)
        var headEnd: Int?
        var finder = ResponseHeadFinder()
        while headEnd == nil && response.count < 65536 {
            switch connection.read(into: &buffer, until: deadline) {
            case .success(0): return failure("connection closed before a complete response")
            case .success(let n): response += buffer[0..<n]
            case .failure(let error): return failure(error.description)
            }
            headEnd = finder.find(in: response)
        }
        guard let headEnd else { return failure("response head over 64 KiB") }
        let head = String(decoding: response[..<headEnd], as: UTF8.self)
        let statusLine = head.prefix { $0 != "\r" && $0 != "\n" }
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else {
            return failure("not an HTTP response: \(statusLine.prefix(40))")
        }
        guard readBody else { return Response(status: status, body: Data(), error: nil) }
        // The body: Content-Length bytes, or (Connection: close) everything until the server closes.
        let lengthField = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .map { $0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces) }
        let length = lengthField.flatMap { Int($0) }
        if lengthField != nil, !(length.map { (0...Self.maxBody).contains($0) } ?? false) {
            return failure("Content-Length \(lengthField ?? "") is not a length from 0 to \(Self.maxBody)")
        }
        var received = Array(response[headEnd...])
        while length.map({ received.count < $0 }) ?? true {
            if received.count > Self.maxBody { return failure("response body over \(Self.maxBody) bytes") }
            switch connection.read(into: &buffer, until: deadline) {
            case .success(0):
                guard length == nil else { return Response(status: status, body: Data(received), error: "body cut short") }
                return Response(status: status, body: Data(received), error: nil)
            case .success(let n): received += buffer[0..<n]
            case .failure(let error):
                // A TLS peer closing without close_notify ends a Connection: close body too.
                guard length == nil else { return Response(status: status, body: Data(received), error: error.description) }
                return Response(status: status, body: Data(received), error: nil)
            }
        }
        return Response(status: status, body: Data(received.prefix(length ?? received.count)), error: nil)
    }

    /// The largest response body read (a status document is a few KiB; a receiver's answer is ignored).
    static let maxBody = 64 << 20

    /// Where the body of a whole response starts: after the first CRLF CRLF.
    public static func headEnd(_ bytes: [UInt8]) -> Int? {
        var finder = ResponseHeadFinder()
        return finder.find(in: bytes)
    }
}
