import Synchronization

/// An HTTP handler set after the server is bound (the endpoints need the bound port
/// for their links); answers 503 until then.
final class LateHandler: HTTPHandler {
    private let handler = Mutex<(any HTTPHandler)?>(nil)

    func set(_ handler: any HTTPHandler) {
        self.handler.withLock { $0 = handler }
    }

    func handle(_ request: HTTPRequest) -> HTTPResponse {
        guard let handler = handler.withLock({ $0 }) else { return HTTPResponse(status: 503, text: "starting\n") }
        return handler.handle(request)
    }
}
