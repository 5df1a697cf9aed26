/// A response: status, a static content type, body bytes.
public struct HTTPResponse {
    public var status: Int
    public var contentType: StaticString
    public var body: [UInt8]
    public var allow: StaticString?
    public var wwwAuthenticate: StaticString?

    public init(
        status: Int, contentType: StaticString = "text/plain; charset=utf-8", body: [UInt8], allow: StaticString? = nil,
        wwwAuthenticate: StaticString? = nil
    ) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.allow = allow
        self.wwwAuthenticate = wwwAuthenticate
    }

    public init(status: Int, text: String) {
        self.init(status: status, body: Array(text.utf8))
    }
}
