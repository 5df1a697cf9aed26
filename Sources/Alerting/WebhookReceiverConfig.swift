/// A webhook receiver: where notifications go and how.
public struct WebhookReceiverConfig: Sendable, Equatable {
    public var name: String
    public var url: String
    public var headers: [String: String] = [:]
    public var bearerToken: String?
    public var basicAuth: (username: String, password: String)?
    /// Per request.
    public var timeout: Duration = .seconds(10)
    public var sendResolved = true
    /// `tls_config.ca_file`: the CAs to trust for an https:// URL (default: the system's).
    public var tlsCAFile: String?
    /// `tls_config.insecure_skip_verify`: do not verify the receiver's certificate.
    public var tlsInsecureSkipVerify = false
    /// Firing groups are notified again after this long; Alertmanager's default.
    public var repeatInterval: Duration = .seconds(4 * 3_600)

    public init(name: String, url: String) {
        self.name = name
        self.url = url
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.name == b.name && a.url == b.url && a.headers == b.headers && a.bearerToken == b.bearerToken
            && a.basicAuth?.username == b.basicAuth?.username && a.basicAuth?.password == b.basicAuth?.password
            && a.timeout == b.timeout && a.sendResolved == b.sendResolved && a.repeatInterval == b.repeatInterval
            && a.tlsCAFile == b.tlsCAFile && a.tlsInsecureSkipVerify == b.tlsInsecureSkipVerify
    }
}
