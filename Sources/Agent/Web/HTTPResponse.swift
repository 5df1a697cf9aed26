import Exposition

/// A response: status, a static content type, body bytes.
public struct HTTPResponse {
    public var status: Int
    public var contentType: StaticString
    public var body: [UInt8]
    /// A rendered page, sent without a copy; when set, `body` is empty.
    public var page: PageBuffer?
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

    /// A page handed to libmicrohttpd as it is.
    public init(status: Int, contentType: StaticString, page: PageBuffer) {
        self.init(status: status, contentType: contentType, body: [])
        self.page = page
    }

    public init(status: Int, text: String) {
        self.init(status: status, body: Array(text.utf8))
    }
}
