/// Answers HTTP requests; called on libmicrohttpd's threads, so it must not block for long.
public protocol HTTPHandler: Sendable {
    func handle(_ request: HTTPRequest) -> HTTPResponse
}
