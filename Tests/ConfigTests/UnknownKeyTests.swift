import Testing

@testable import Config

/// A typo anywhere in the file names the key, the file and line, the keys valid at that level, and the one
/// most likely meant.
@Suite struct UnknownKeyTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var yaml: String
        var field: String
        var line: Int
        var reason: String
        var testDescription: String { field }
    }

    static let cases: [Case] = [
        Case(
            yaml: "reciever:\n  - url: http://x/\n", field: "reciever", line: 1,
            reason:
                "unknown key reciever; did you mean receivers? (valid here: alert, alertmanager, canary, health, limits, log, probe, ready, receivers, rules, shutdown, statsd, tigerbeetle, web)"
        ),
        Case(
            yaml: "log:\n  levle: debug\n", field: "log.levle", line: 2,
            reason: "unknown key levle; did you mean level? (valid here: level)"),
        Case(
            yaml: "web:\n  config:\n    fil: w.yml\n", field: "web.config.fil", line: 3,
            reason: "unknown key fil; did you mean file? (valid here: file)"),
        Case(
            yaml: "tigerbeetle:\n  clusters:\n    - cluster: 0\n      adresses: 127.0.0.1:3000\n",
            field: "tigerbeetle.clusters[0].adresses", line: 4,
            reason: "unknown key adresses; did you mean addresses? (valid here: addresses, canary, cluster)"),
        Case(
            yaml: "receivers:\n  - url: http://x/\n    sendresolved: true\n", field: "receivers[0].sendresolved", line: 3,
            reason:
                "unknown key sendresolved; did you mean send_resolved? (valid here: basic_auth, bearer_token, headers, name, repeat_interval, send_resolved, timeout, tls_config, url)"
        ),
        Case(
            yaml: "rules:\n  TigerBeetleQuorumLots: {for: 1s}\n", field: "rules.TigerBeetleQuorumLots", line: 2,
            reason: "unknown rule TigerBeetleQuorumLots; did you mean TigerBeetleQuorumLost?"),
        Case(
            yaml: "rules:\n  TigerBeetleQuorumLost:\n    keep_firng_for: 5s\n", field: "rules.TigerBeetleQuorumLost.keep_firng_for",
            line: 3,
            reason: "unknown option keep_firng_for; did you mean keep_firing_for? (valid here: enabled, for, keep_firing_for, severity)"),
        Case(yaml: "log: debug\n", field: "log", line: 1, reason: "a section, not a value (its keys: level)"),
        Case(yaml: "statsd:\n  ttl: [5m]\n", field: "statsd.ttl", line: 2, reason: "expected a single value, not a list"),
    ]

    @Test(arguments: cases)
    func namesTheKeyItsLineAndTheValidOnes(_ c: Case) throws {
        let error = try #require(loadError(file: ("b.yml", c.yaml)))
        #expect(error.field == c.field)
        #expect(error.source == "b.yml, line \(c.line)")
        #expect(error.reason.hasPrefix(c.reason), "\(error.reason)")
    }

    @Test func editDistanceCountsASwapOnce() {
        #expect(ConfigLoader.editDistance(Array("reciever"), Array("receiver")) == 1)
        #expect(ConfigLoader.closest(to: "tll", among: ["ttl", "mapping"]) == "ttl")
        #expect(ConfigLoader.closest(to: "zzzzz", among: ["ttl", "mapping"]) == nil)
    }
}
