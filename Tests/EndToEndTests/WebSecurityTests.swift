import Agent
import AgentTestSupport
import Config
import Foundation
import TestSupport
import Testing

/// htpasswd -nbBC 5 foo key1 (Apache's bcrypt, `$2y$`).
let fooHash = "$2y$05$j0wkwHcoF8LUkm4crmVEruzsGJpT/VpoUJZWc3A7YQi7XPzG2C0li"
/// libxcrypt's bcrypt of "test", cost 10 (`$2b$`).
let prometheusHash = "$2b$10$nGi9UEC9RZGeA6grybjC3.hplMREc6eWQ8PgjofB4UAQ9ew4s4gAK"

/// TLS and basic auth on the HTTP endpoints (`--web.config.file`), checked with a real HTTPS client (curl)
/// against a self-signed certificate made for the test.
@Suite(.serialized, .timeLimit(.minutes(2)), .tags(.endToEnd)) struct WebSecurityTests {
    static let secured = """
        tls_server_config:
          cert_file: server.crt
          key_file: server.key
        basic_auth_users:
          foo: \(fooHash)
          prometheus: \(prometheusHash)
        """

    func agent(_ tls: TestCertificate, webConfig: String, _ configure: @escaping (inout AgentConfig) -> Void = { _ in }) throws -> TestAgent
    {
        let path = try tls.write("web.yml", webConfig)
        return try TestAgent.start(watching: false) {
            $0.webConfigFile = path
            configure(&$0)
        }
    }

    @Test func httpsWithBasicAuth() throws {
        let tls = try TestCertificate.make()
        defer { tls.remove() }
        let test = try agent(tls, webConfig: Self.secured)
        defer { test.stop() }
        let base = "https://127.0.0.1:\(test.agent.webPort)"
        let trusted = ["--cacert", tls.certificatePath]

        let health = try Curl.fetch(base + "/health", trusted)
        #expect(health.status == 200, "/health stays open for probes by default")
        let anonymous = try Curl.fetch(base + "/metrics", trusted)
        #expect(anonymous.status == 401)
        #expect(anonymous.headers.lowercased().contains("www-authenticate: basic realm=\"beetlewatch\""), "\(anonymous.headers)")
        #expect(!anonymous.body.contains("beetlewatch_build_info"))

        for (user, password) in [("foo", "key1"), ("prometheus", "test")] {
            let reply = try Curl.fetch(base + "/metrics", trusted + ["-u", "\(user):\(password)"])
            #expect(reply.status == 200, "\(user)")
            #expect(reply.body.contains("beetlewatch_build_info"))
            // A second request is answered from the cache of verified credentials.
            #expect(try Curl.fetch(base + "/api/v1/alerts", trusted + ["-u", "\(user):\(password)"]).status == 200)
        }
        for (user, password) in [("foo", "wrong"), ("nobody", "key1"), ("foo", ""), ("prometheus", "key1")] {
            #expect(try Curl.fetch(base + "/metrics", trusted + ["-u", "\(user):\(password)"]).status == 401, "\(user):\(password)")
        }
        let garbled = try Curl.fetch(base + "/metrics", trusted + ["-H", "Authorization: Basic %%%not-base64"])
        #expect(garbled.status == 401)

        // The certificate is what the server presents: without trusting it, curl refuses (60).
        let untrusted = try Curl.fetch(base + "/health")
        #expect(untrusted.exitCode == 60, "\(untrusted)")
        // Plain HTTP to the HTTPS port gets no HTTP answer.
        let plain = try Curl.fetch("http://127.0.0.1:\(test.agent.webPort)/health")
        #expect(plain.status != 200)
    }

    /// `beetlewatch check` (the container health check) speaks TLS and basic auth too.
    @Test func checkSpeaksTLSAndBasicAuth() throws {
        let tls = try TestCertificate.make()
        defer { tls.remove() }
        let test = try agent(tls, webConfig: Self.secured) { $0.webAuthExemptPaths = [] }
        defer { test.stop() }
        let password = try tls.write("password", "key1\n")
        let url = "https://127.0.0.1:\(test.agent.webPort)/health"
        let ok = try BeetlewatchBinary.run([
            "check", "--live", "--url", url, "--ca-file", tls.certificatePath,
            "--basic-auth-user", "foo", "--basic-auth-password-file", password,
        ])
        #expect(ok.status == 0, "\(ok.stderr)")
        let anonymous = try BeetlewatchBinary.run(["check", "--live", "--url", url, "--ca-file", tls.certificatePath])
        #expect(anonymous.status == 2)
        #expect(anonymous.stderr.contains("401"), "\(anonymous.stderr)")
        let untrusted = try BeetlewatchBinary.run([
            "check", "--live", "--url", url, "--basic-auth-user", "foo", "--basic-auth-password-file", password,
        ])
        #expect(untrusted.status == 2)
        #expect(untrusted.stderr.contains("certificate refused"), "\(untrusted.stderr)")
    }

    @Test func minimumVersionIsEnforced() throws {
        let tls = try TestCertificate.make()
        defer { tls.remove() }
        let test = try agent(tls, webConfig: "tls_server_config: {cert_file: server.crt, key_file: server.key, min_version: TLS13}")
        defer { test.stop() }
        let url = "https://127.0.0.1:\(test.agent.webPort)/health"
        #expect(try Curl.fetch(url, ["--cacert", tls.certificatePath]).status == 200)
        let old = try Curl.fetch(url, ["--cacert", tls.certificatePath, "--tls-max", "1.2"])
        #expect(old.status == 0)
        #expect(old.exitCode == 35, "TLS handshake refused: \(old)")
    }

    @Test func exemptPathsAreConfigurable() throws {
        let tls = try TestCertificate.make()
        defer { tls.remove() }
        let users = "basic_auth_users: {foo: \(fooHash)}"
        do {
            let test = try agent(tls, webConfig: users) { $0.webAuthExemptPaths = [] }
            defer { test.stop() }
            #expect(try Curl.fetch("http://127.0.0.1:\(test.agent.webPort)/health").status == 401)
            #expect(try Curl.fetch("http://127.0.0.1:\(test.agent.webPort)/health", ["-u", "foo:key1"]).status == 200)
        }
        do {
            let test = try agent(tls, webConfig: users) { $0.webAuthExemptPaths = ["/health", "/ready"] }
            defer { test.stop() }
            #expect(try Curl.fetch("http://127.0.0.1:\(test.agent.webPort)/ready").status != 401)
            #expect(try Curl.fetch("http://127.0.0.1:\(test.agent.webPort)/metrics").status == 401)
        }
    }

    @Test(arguments: [
        ("mismatch", "tls_server_config", "key"),
        ("missing", "tls_server_config.cert_file", "cannot read"),
        ("garbage", "tls_server_config", "certificate and key"),
    ])
    func badTLSMaterialIsRefusedAtStart(case name: String, field: String, reason: String) throws {
        let tls = try TestCertificate.make()
        let other = try TestCertificate.make()
        defer {
            tls.remove()
            other.remove()
        }
        let webConfig: String
        switch name {
        case "mismatch": webConfig = "tls_server_config: {cert_file: server.crt, key_file: \(other.keyPath)}"
        case "missing": webConfig = "tls_server_config: {cert_file: nowhere.crt, key_file: server.key}"
        default: webConfig = "tls_server_config: {cert_file: garbage.crt, key_file: server.key}"
        }
        try tls.write("garbage.crt", "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
        let path = try tls.write("web.yml", webConfig)
        var config = AgentConfig()
        config.webConfigFile = path
        config.webListenAddress = HostPort(host: "127.0.0.1", port: 0)
        config.statsdListenUDP = HostPort(host: "127.0.0.1", port: 0)
        do {
            _ = try Agent(config: config, logger: .init(label: "test"))
            Issue.record("started with \(name) TLS material")
        } catch let error as ConfigError {
            #expect(error.field == field, "\(error)")
            #expect(error.source == path)
            #expect(error.reason.lowercased().contains(reason), "\(error)")
        }
    }

    @Test func aBadWebConfigFileExitsTwoNamingTheField() throws {
        let tls = try TestCertificate.make()
        defer { tls.remove() }
        let path = try tls.write("web.yml", "basic_auth_users: {alice: plaintext}")
        let result = try BeetlewatchBinary.run([
            "--web.config.file", path, "--web.listen-address", "127.0.0.1:0", "--statsd.listen-udp", "127.0.0.1:0",
        ])
        #expect(result.status == 2)
        #expect(result.stderr.contains("basic_auth_users.alice"), "\(result.stderr)")
        #expect(result.stderr.contains("not a bcrypt hash"), "\(result.stderr)")
    }

    /// A reload turns TLS on and off on the same port, without a moment the port is closed.
    @Test func reloadSwitchesTLSOnTheSamePort() async throws {
        let tls = try TestCertificate.make()
        defer { tls.remove() }
        let path = try tls.write("web.yml", "")
        let source: @Sendable () throws -> AgentConfig = {
            try ConfigLoader.load(
                flags: [
                    "web.config.file": path, "web.listen-address": "127.0.0.1:0", "statsd.listen-udp": "127.0.0.1:0",
                    "web.enable-lifecycle": "true",
                ], environment: [:], file: nil)
        }
        let initial = try source()
        let test = try TestAgent.start(watching: false, reloadingFrom: source) { $0 = initial }
        defer { test.stop() }
        let port = test.agent.webPort
        #expect(try Curl.fetch("http://127.0.0.1:\(port)/health").status == 200)

        try tls.write("web.yml", Self.secured)
        #expect(throws: Never.self) { try test.agent.reload(trigger: "test").get() }
        #expect(try Curl.fetch("https://127.0.0.1:\(port)/health", ["--cacert", tls.certificatePath]).status == 200)
        #expect(try Curl.fetch("https://127.0.0.1:\(port)/metrics", ["--cacert", tls.certificatePath]).status == 401)
        #expect(try Curl.fetch("http://127.0.0.1:\(port)/health").status != 200)

        // A broken certificate is refused; HTTPS with the old one stays.
        try tls.write("web.yml", "tls_server_config: {cert_file: server.crt, key_file: missing.key}")
        guard case .failure(let refusal) = test.agent.reload(trigger: "test") else {
            Issue.record("a reload with a missing key file was applied")
            return
        }
        #expect(refusal.reason.contains("tls_server_config.key_file"))
        let still = try Curl.fetch("https://127.0.0.1:\(port)/metrics", ["--cacert", tls.certificatePath, "-u", "foo:key1"])
        #expect(still.status == 200)
        #expect(PrometheusText.samples(still.body)["beetlewatch_config_last_reload_successful"] == 0)

        // Back to plain HTTP through the endpoint itself, served by the very daemon being replaced.
        try tls.write("web.yml", "")
        let reply = try Curl.fetch("https://127.0.0.1:\(port)/-/reload", ["--cacert", tls.certificatePath, "-u", "foo:key1", "-X", "POST"])
        #expect(reply.status == 200, "\(reply)")
        #expect(try Curl.fetch("http://127.0.0.1:\(port)/metrics").status == 200)
    }
}
