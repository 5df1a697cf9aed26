import Testing

@testable import Config

@Suite struct WebConfigTests {
    @Test func readsTheExporterToolkitFormat() throws {
        let file = try fixture("web-config.yml")
        let config = try WebConfig.parse(yaml: file.contents, name: file.name, directory: "/etc/beetlewatch")
        let tls = try #require(config.tls)
        #expect(
            tls.certificate == .file("/etc/beetlewatch/tls/server.crt"), "relative to the web config file, as exporter-toolkit resolves it")
        #expect(tls.key == .file("/etc/beetlewatch/server.key"))
        #expect(tls.minVersion == .tls13)
        #expect(tls.priorities == "NORMAL:-VERS-ALL:+VERS-TLS1.3")
        #expect(config.basicAuthUsers.keys.sorted() == ["foo", "prometheus"])
    }

    @Test func tlsDefaultsToVersions12And13() throws {
        let config = try WebConfig.parse(yaml: "tls_server_config: {cert: PEM, key: PEM}", name: "web.yml", directory: ".")
        #expect(config.tls?.certificate == .inline("PEM"))
        #expect(config.tls?.priorities == "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2")
    }

    @Test(arguments: [
        // As exporter-toolkit: no file, or a TLS section without certificate and key, is plain HTTP.
        ("", false),
        ("tls_server_config: {}", false),
        ("basic_auth_users: {}", false),
        ("tls_server_config: {cert_file: a.crt, key_file: a.key, max_version: TLS12}", true),
        ("tls_server_config: {cert_file: a.crt, key_file: a.key, client_auth_type: NoClientCert}", true),
    ])
    func plainOrTLS(yaml: String, tls: Bool) throws {
        #expect((try WebConfig.parse(yaml: yaml, name: "web.yml", directory: ".").tls != nil) == tls)
    }

    @Test(arguments: [
        ("tls_server_config: {cert_file: a.crt}", "tls_server_config.key_file", "missing"),
        ("tls_server_config: {key_file: a.key}", "tls_server_config.cert_file", "missing"),
        ("tls_server_config: {cert_file: a.crt, cert: PEM, key_file: a.key}", "tls_server_config.cert_file", "not both"),
        (
            "tls_server_config: {cert_file: a.crt, key_file: a.key, min_version: TLS14}", "tls_server_config.min_version",
            "unknown version TLS14"
        ),
        (
            "tls_server_config: {cert_file: a.crt, key_file: a.key, min_version: TLS13, max_version: TLS12}",
            "tls_server_config.min_version", "above max_version"
        ),
        (
            "tls_server_config: {cert_file: a.crt, key_file: a.key, client_auth_type: RequireAndVerifyClientCert}",
            "tls_server_config.client_auth_type", "not supported"
        ),
        (
            "tls_server_config: {cert_file: a.crt, key_file: a.key, cipher_suites: [TLS_AES_128_GCM_SHA256]}",
            "tls_server_config.cipher_suites", "not supported"
        ),
        ("tls_server_config: {cert_fil: a.crt}", "tls_server_config.cert_fil", "unknown key"),
        ("http_server_config: {headers: {X-Frame-Options: deny}}", "http_server_config.headers", "not supported"),
        ("basic_auth_users: {alice: secret}", "basic_auth_users.alice", "not a bcrypt hash"),
        (
            "basic_auth_users: {alice: $2y$05$j0wkwHcoF8LUkm4crmVEruzsGJpT/VpoUJZWc3A7YQi7XPzG2C0l}", "basic_auth_users.alice",
            "not a bcrypt hash"
        ),
        ("basic_auth_users: {alice: $1$abcdefgh$abcdefghijklmnopqrstuv}", "basic_auth_users.alice", "not a bcrypt hash"),
        ("basic_auth_users: {\"a:b\": $2y$05$j0wkwHcoF8LUkm4crmVEruzsGJpT/VpoUJZWc3A7YQi7XPzG2C0li}", "basic_auth_users.a:b", "no ':'"),
        ("basic_auth_users: [alice]", "basic_auth_users", "expected a mapping"),
        ("rate_limit: {interval: 1s}", "rate_limit", "not supported"),
        ("tls_server_confg: {}", "tls_server_confg", "unknown key"),
        ("- a list", "(file)", "expected a mapping"),
        ("tls_server_config: [", "(file)", "not valid YAML"),
    ])
    func refusalsNameTheField(yaml: String, field: String, reason: String) {
        #expect(throws: ConfigError.self) { try WebConfig.parse(yaml: yaml, name: "web.yml", directory: ".") }
        do {
            _ = try WebConfig.parse(yaml: yaml, name: "web.yml", directory: ".")
        } catch {
            #expect(error.field == field)
            #expect(error.source == "web.yml")
            #expect(error.reason.contains(reason), "\(error.reason)")
        }
    }

    @Test func theWebSettingsLoad() throws {
        let config = try ConfigLoader.load(
            flags: [
                "web.config.file": "/etc/beetlewatch/web.yml", "web.enable-lifecycle": "true",
                "web.auth-exempt-paths": "/health\n/ready",
            ], environment: [:], file: nil)
        #expect(config.webConfigFile == "/etc/beetlewatch/web.yml")
        #expect(config.webEnableLifecycle)
        #expect(config.webAuthExemptPaths == ["/health", "/ready"])
        let defaults = AgentConfig()
        #expect(defaults.webAuthExemptPaths == ["/health"])
        #expect(!defaults.webEnableLifecycle)
        #expect(loadError(flags: ["web.auth-exempt-paths": "metrics"])?.field == "web.auth-exempt-paths")
        #expect(try ConfigLoader.load(flags: ["web.auth-exempt-paths": ""], environment: [:], file: nil).webAuthExemptPaths.isEmpty)
    }

    @Test func restartOnlySettingsAreNamedAndDetected() throws {
        for key in AgentConfig.restartOnlyKeys { #expect(Setting.named(key) != nil, "\(key)") }
        let old = AgentConfig()
        var new = old
        #expect(new.restartOnlyChanges(comparedTo: old).isEmpty)
        new.probeInterval = .seconds(9)
        new.alertResendDelay = .seconds(5)
        #expect(new.restartOnlyChanges(comparedTo: old).isEmpty, "probe timing and rules are reloadable")
        new.webListenAddress = HostPort(host: "127.0.0.1", port: 1)
        new.statsdMapping = .statsdExporter
        #expect(new.restartOnlyChanges(comparedTo: old) == ["statsd.mapping", "web.listen-address"])
    }
}
