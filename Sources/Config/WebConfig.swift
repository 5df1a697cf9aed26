import Yams

/// The web configuration file of `--web.config.file`, in the Prometheus exporter-toolkit format:
/// TLS for the HTTP endpoints (`tls_server_config`) and basic auth (`basic_auth_users`, bcrypt hashes).
/// Pure: the caller reads this file and the certificate files it names.
public struct WebConfig: Sendable, Equatable {
    /// Where a PEM text comes from: a file (relative paths are relative to the web config file) or inline.
    public enum PEMSource: Sendable, Equatable {
        case file(String)
        case inline(String)
    }

    /// TLS protocol versions, as exporter-toolkit names them.
    public enum TLSVersion: String, Sendable, CaseIterable, Comparable {
        case tls10 = "TLS10"
        case tls11 = "TLS11"
        case tls12 = "TLS12"
        case tls13 = "TLS13"

        var gnuTLSName: String {
            switch self {
            case .tls10: "VERS-TLS1.0"
            case .tls11: "VERS-TLS1.1"
            case .tls12: "VERS-TLS1.2"
            case .tls13: "VERS-TLS1.3"
            }
        }

        public static func < (a: Self, b: Self) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    public struct TLS: Sendable, Equatable {
        public var certificate: PEMSource
        public var key: PEMSource
        /// exporter-toolkit's default: TLS 1.2.
        public var minVersion = TLSVersion.tls12
        public var maxVersion = TLSVersion.tls13

        /// The GnuTLS priority string allowing exactly the versions from min to max.
        public var priorities: String {
            let versions = TLSVersion.allCases.filter { $0 >= minVersion && $0 <= maxVersion }.reversed()
            return "NORMAL:-VERS-ALL:" + versions.map { "+" + $0.gnuTLSName }.joined(separator: ":")
        }
    }

    /// nil: plain HTTP.
    public var tls: TLS?
    /// User name → bcrypt hash. Empty: no authentication.
    public var basicAuthUsers: [String: String] = [:]

    public init(tls: TLS? = nil, basicAuthUsers: [String: String] = [:]) {
        self.tls = tls
        self.basicAuthUsers = basicAuthUsers
    }

    /// exporter-toolkit keys beetlewatch does not implement: refused by name rather than ignored,
    /// since ignoring a security setting would silently weaken it.
    static let unsupportedKeys: [String: String] = [
        "tls_server_config.client_ca_file": "client certificates are not supported; use basic_auth_users or a proxy",
        "tls_server_config.client_ca": "client certificates are not supported; use basic_auth_users or a proxy",
        "tls_server_config.client_allowed_sans": "client certificates are not supported; use basic_auth_users or a proxy",
        "tls_server_config.cipher_suites": "cipher suites are GnuTLS's secure defaults for the allowed versions",
        "tls_server_config.curve_preferences": "curves are GnuTLS's secure defaults",
        "http_server_config.headers": "extra response headers are not supported",
        "rate_limit": "rate limiting is not supported; the server limits connections per IP instead",
    ]

    /// Parses the file's YAML. `directory` is the file's directory, for relative certificate paths.
    public static func parse(yaml: String, name: String, directory: String) throws(ConfigError) -> WebConfig {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigError(field: "(file)", source: name, reason: "not valid YAML: \(error)")
        }
        guard let root else { return WebConfig() }
        let top = try mapping(root, field: "(file)", name: name)
        try checkKeys(top, known: ["tls_server_config", "http_server_config", "basic_auth_users", "rate_limit"], prefix: "", name: name)
        var config = WebConfig()
        if let node = top["tls_server_config"] {
            config.tls = try tls(mapping(node, field: "tls_server_config", name: name), name: name, directory: directory)
        }
        if let node = top["http_server_config"] {
            let http = try mapping(node, field: "http_server_config", name: name)
            try checkKeys(http, known: ["http2", "headers"], prefix: "http_server_config.", name: name)
        }
        if let node = top["basic_auth_users"] {
            for (userNode, hashNode) in try mapping(node, field: "basic_auth_users", name: name) {
                let user = userNode.string ?? ""
                let field = "basic_auth_users.\(user)"
                guard !user.isEmpty, !user.contains(":") else {
                    throw ConfigError(field: field, source: name, reason: "a user name must be non-empty and contain no ':'")
                }
                let hash = hashNode.string ?? ""
                guard isBcryptHash(hash) else {
                    throw ConfigError(
                        field: field, source: name,
                        reason: "not a bcrypt hash (60 characters starting $2y$, $2b$ or $2a$; make one with htpasswd -nBC 10 \(user))")
                }
                config.basicAuthUsers[user] = hash
            }
        }
        return config
    }

    private static func tls(_ node: Node.Mapping, name: String, directory: String) throws(ConfigError) -> TLS? {
        try checkKeys(
            node,
            known: [
                "cert_file", "key_file", "cert", "key", "min_version", "max_version", "prefer_server_cipher_suites",
                "client_auth_type",
            ],
            prefix: "tls_server_config.", name: name)
        func text(_ key: String) -> String? { node[key]?.string.flatMap { $0.isEmpty ? nil : $0 } }
        // exporter-toolkit's default, written out in many examples; anything else asks for client certificates.
        if let clientAuth = text("client_auth_type"), clientAuth != "NoClientCert" {
            throw ConfigError(
                field: "tls_server_config.client_auth_type", source: name,
                reason:
                    "\(clientAuth): client certificates are not supported by beetlewatch (NoClientCert only); use basic_auth_users or a proxy"
            )
        }
        func source(file: String, inline: String) throws(ConfigError) -> PEMSource? {
            switch (text(file), text(inline)) {
            case (let path?, nil): .file(path.hasPrefix("/") ? path : directory + "/" + path)
            case (nil, let pem?): .inline(pem)
            case (nil, nil): nil
            case (_?, _?):
                throw ConfigError(field: "tls_server_config.\(file)", source: name, reason: "give \(file) or \(inline), not both")
            }
        }
        let certificate = try source(file: "cert_file", inline: "cert")
        let key = try source(file: "key_file", inline: "key")
        // As exporter-toolkit: a section without certificate and key serves plain HTTP.
        if certificate == nil && key == nil { return nil }
        guard let certificate else {
            throw ConfigError(field: "tls_server_config.cert_file", source: name, reason: "missing (key_file is set)")
        }
        guard let key else { throw ConfigError(field: "tls_server_config.key_file", source: name, reason: "missing (cert_file is set)") }
        var tls = TLS(certificate: certificate, key: key)
        for (key, path) in [("min_version", \TLS.minVersion), ("max_version", \TLS.maxVersion)] {
            guard let value = text(key) else { continue }
            guard let version = TLSVersion(rawValue: value) else {
                throw ConfigError(
                    field: "tls_server_config.\(key)", source: name,
                    reason: "unknown version \(value) (\(TLSVersion.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            tls[keyPath: path] = version
        }
        guard tls.minVersion <= tls.maxVersion else {
            throw ConfigError(field: "tls_server_config.min_version", source: name, reason: "is above max_version")
        }
        return tls
    }

    private static func mapping(_ node: Node, field: String, name: String) throws(ConfigError) -> Node.Mapping {
        guard case .mapping(let mapping) = node else { throw ConfigError(field: field, source: name, reason: "expected a mapping") }
        return mapping
    }

    private static func checkKeys(_ mapping: Node.Mapping, known: Set<String>, prefix: String, name: String) throws(ConfigError) {
        for keyNode in mapping.keys {
            let key = prefix + (keyNode.string ?? "?")
            if let why = unsupportedKeys[key] {
                throw ConfigError(field: key, source: name, reason: "not supported by beetlewatch: \(why)")
            }
            guard known.contains(keyNode.string ?? "") else {
                throw ConfigError(field: key, source: name, reason: "unknown key (\(known.sorted().joined(separator: ", ")))")
            }
        }
    }

    /// `$2a$`, `$2b$` or `$2y$`, a two-digit cost from 04 to 31, then 53 characters of bcrypt's base64.
    static func isBcryptHash(_ hash: String) -> Bool {
        let bytes = Array(hash.utf8)
        guard bytes.count == 60, bytes[0] == UInt8(ascii: "$"), bytes[1] == UInt8(ascii: "2"),
            [UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "y")].contains(bytes[2]), bytes[3] == UInt8(ascii: "$"),
            bytes[6] == UInt8(ascii: "$"), let cost = Int(String(decoding: bytes[4...5], as: UTF8.self)), (4...31).contains(cost)
        else { return false }
        let alphabet = Set("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
        return bytes[7...].allSatisfy { alphabet.contains($0) }
    }
}
