import Foundation
import MetricStore
import Testing

@testable import Config

func fixture(_ name: String) throws -> (name: String, contents: String) {
    let url = Bundle.module.resourceURL!.appendingPathComponent("Fixtures").appendingPathComponent(name)
    return (name, try String(contentsOf: url, encoding: .utf8))
}

func loadError(flags: [String: String] = [:], env: [String: String] = [:], file: (name: String, contents: String)? = nil) -> ConfigError? {
    do {
        _ = try ConfigLoader.load(flags: flags, environment: env, file: file)
        return nil
    } catch {
        return error
    }
}

@Suite struct ConfigLoaderTests {
    @Test func defaults() throws {
        let config = try ConfigLoader.load(flags: [:], environment: [:], file: nil)
        #expect(config == AgentConfig())
        #expect(config.statsdListenUDP == HostPort(host: "0.0.0.0", port: 8125))
        #expect(config.webListenAddress == HostPort(host: "0.0.0.0", port: 9917))
        #expect(config.statsdTTL == .seconds(120))
        #expect(config.statsdMapping == .tigerbeetle)
        #expect(config.statsdReadBuffer == 32 << 20)
    }

    @Test func fileValues() throws {
        let config = try ConfigLoader.load(flags: [:], environment: [:], file: try fixture("valid.yml"))
        #expect(config.statsdTTL == .seconds(300))
        #expect(config.statsdMapping == .statsdExporter)
        #expect(config.statsdReadBuffer == 8 << 20)
        #expect(config.logLevel == .debug)
        #expect(config.webListenAddress == HostPort(host: "127.0.0.1", port: 9917))
    }

    @Test func precedenceIsFlagsThenEnvironmentThenFileThenDefaults() throws {
        let file = try fixture("valid.yml")
        let env = ["BEETLEWATCH_STATSD_TTL": "10m", "BEETLEWATCH_LOG_LEVEL": "error"]
        let config = try ConfigLoader.load(flags: ["statsd.ttl": "30s"], environment: env, file: file)
        #expect(config.statsdTTL == .seconds(30))  // flag beats env and file
        #expect(config.logLevel == .error)  // env beats file
        #expect(config.statsdMapping == .statsdExporter)  // file beats default
        #expect(config.statsdMaxTags == 64)  // default
    }

    @Test func environmentVariableNames() {
        #expect(Setting.named("statsd.ttl")?.environmentVariable == "BEETLEWATCH_STATSD_TTL")
        #expect(Setting.named("statsd.listen-udp")?.environmentVariable == "BEETLEWATCH_STATSD_LISTEN_UDP")
        #expect(
            ConfigLoader.unknownVariables(in: ["BEETLEWATCH_STATSD_TLL": "1", "BEETLEWATCH_STATSD_TTL": "1", "HOME": "/"]) == [
                "BEETLEWATCH_STATSD_TLL"
            ])
    }

    struct BadCase: Sendable, CustomTestStringConvertible {
        var flags: [String: String] = [:]
        var env: [String: String] = [:]
        var file: String?
        var field: String
        var source: String
        var reasonContains: String
        var testDescription: String { "\(field) from \(source)" }
    }

    @Test(arguments: [
        BadCase(flags: ["statsd.ttl": "5x"], field: "statsd.ttl", source: "--statsd.ttl", reasonContains: "not a duration"),
        BadCase(flags: ["statsd.ttl": "5"], field: "statsd.ttl", source: "--statsd.ttl", reasonContains: "needs a unit"),
        BadCase(
            env: ["BEETLEWATCH_STATSD_MAPPING": "graphite"], field: "statsd.mapping", source: "BEETLEWATCH_STATSD_MAPPING",
            reasonContains: "tigerbeetle, statsd_exporter"),
        BadCase(
            flags: ["statsd.listen-udp": "8125"], field: "statsd.listen-udp", source: "--statsd.listen-udp",
            reasonContains: "not an address"),
        BadCase(
            flags: ["web.listen-address": "127.0.0.1:99999"], field: "web.listen-address", source: "--web.listen-address",
            reasonContains: "not an address"),
        BadCase(
            flags: ["statsd.read-buffer": "4 parsecs"], field: "statsd.read-buffer", source: "--statsd.read-buffer",
            reasonContains: "not a size"),
        BadCase(
            flags: ["statsd.read-buffer": "1"], field: "statsd.read-buffer", source: "--statsd.read-buffer",
            reasonContains: "between 4KiB and 1GiB"),
        BadCase(flags: ["statsd.max-tags": "0"], field: "statsd.max-tags", source: "--statsd.max-tags", reasonContains: "whole number"),
        BadCase(flags: ["log.level": "loud"], field: "log.level", source: "--log.level", reasonContains: "trace, debug"),
        BadCase(flags: ["statsd.nope": "1"], field: "statsd.nope", source: "--statsd.nope", reasonContains: "unknown flag"),
        BadCase(file: "bad-ttl.yml", field: "statsd.ttl", source: "bad-ttl.yml: statsd.ttl", reasonContains: "not a duration"),
        BadCase(
            file: "unknown-key.yml", field: "statsd.tll", source: "unknown-key.yml, line 2",
            reasonContains: "unknown key tll; did you mean ttl? (valid here: listen-udp, mapping, max-tags, read-buffer, stale-after, ttl)"),
        BadCase(file: "not-yaml.yml", field: "(file)", source: "not-yaml.yml", reasonContains: "not valid YAML"),
    ])
    func badValuesNameTheFieldAndWhy(_ c: BadCase) throws {
        let error = loadError(flags: c.flags, env: c.env, file: try c.file.map(fixture))
        #expect(error?.field == c.field)
        #expect(error?.source == c.source)
        #expect(error?.reason.contains(c.reasonContains) == true, "\(error?.description ?? "no error")")
    }
}

@Suite struct ValueParserTests {
    @Test(arguments: [
        ("0", Duration.zero), ("30s", .seconds(30)), ("2m", .seconds(120)), ("1h30m", .seconds(5400)),
        ("500ms", .milliseconds(500)), ("1d", .seconds(86400)), ("1m30s", .seconds(90)),
    ])
    func durations(_ text: String, _ value: Duration) throws {
        #expect(try ValueParsers.duration(text) == value)
    }

    @Test(arguments: [
        ("4194304", 4_194_304), ("512KiB", 524288), ("4MiB", 4_194_304), ("1GiB", 1 << 30), ("64KB", 64000), ("4MB", 4_000_000),
    ])
    func sizes(_ text: String, _ value: Int) throws {
        #expect(try ValueParsers.byteSize(text) == value)
    }

    @Test(arguments: [("0.0.0.0:8125", "0.0.0.0", 8125), ("[::1]:9917", "::1", 9917), (":9917", "", 9917), ("localhost:1", "localhost", 1)])
    func addresses(_ text: String, _ host: String, _ port: Int) throws {
        #expect(try ValueParsers.listenAddress(text) == HostPort(host: host, port: UInt16(port)))
    }

    @Test(arguments: ["", "8125", "host:", "host:port", "::1:80", "[::1]80", "a b:1"])
    func badAddresses(_ text: String) {
        #expect(HostPort(parsing: text) == nil)
    }
}
