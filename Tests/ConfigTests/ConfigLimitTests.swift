import Testing

@testable import Config

/// Values the loader once accepted and the agent later trapped on: every duration has a range, enforced
/// with the field named; ambiguous cluster definitions are errors naming both places.
@Suite struct ConfigLimitTests {
    /// Each of these passed validation and crashed the agent (an Int64 overflow) at its first use.
    @Test(arguments: [
        ("probe.interval", "2562047h"), ("probe.timeout", "2562047h"), ("shutdown.timeout", "2562047h"),
        ("alert.resend-delay", "1000000h"), ("statsd.ttl", "1000000h"), ("statsd.stale-after", "1000000h"),
        ("probe.interval", "50ms"), ("probe.timeout", "1ms"), ("shutdown.timeout", "11m"), ("alert.resend-delay", "25h"),
        ("statsd.ttl", "500ms"), ("statsd.stale-after", "0"),
    ])
    func aDurationOutsideItsRangeIsRefusedNamingTheField(_ key: String, _ value: String) throws {
        let error = try #require(loadError(flags: [key: value]))
        #expect(error.field == key)
        #expect(error.reason.contains("must be"), "\(error.reason)")
        #expect(error.reason.hasSuffix("got \(value)"), "\(error.reason)")
    }

    @Test func rangesAreInclusiveAndShownInTheHelp() throws {
        let config = try ConfigLoader.load(
            flags: [
                "probe.interval": "1h", "probe.timeout": "10ms", "shutdown.timeout": "0",
                "alert.resend-delay": "24h", "statsd.ttl": "0",
            ], environment: [:], file: nil)
        #expect(config.probeInterval == .seconds(3600))
        #expect(config.shutdownTimeout == .zero)
        #expect(config.statsdTTL == .zero)
        #expect(Setting.named("probe.interval")?.help.contains("from 100ms to 1h") == true)
        #expect(Setting.named("shutdown.timeout")?.help.contains("at most 10m") == true)
        #expect(loadError(flags: ["probe.timeout": "61s"])?.reason == "must be from 10ms to 1m, got 61s")
    }

    @Test(arguments: [
        ("receivers:\n  - url: http://h.example/\n    timeout: 1000000h\n", "receivers[0]"),
        ("receivers:\n  - url: http://h.example/\n    repeat_interval: 0s\n", "receivers[0]"),
        ("rules:\n  TigerBeetleQuorumLost: {for: 2562047h}\n", "rules.TigerBeetleQuorumLost"),
        ("rules:\n  TigerBeetleClockSkew: {threshold: 2562047h}\n", "rules.TigerBeetleClockSkew"),
        ("rules:\n  TigerBeetleViewChanged: {window: 0s}\n", "rules.TigerBeetleViewChanged"),
    ])
    func fileDurationsHaveRangesToo(_ yaml: String, _ field: String) throws {
        let error = try #require(loadError(file: (name: "x.yml", contents: yaml)))
        #expect(error.field == field)
        #expect(error.reason.contains("must be"), "\(error.reason)")
    }

    /// A URL that would have trapped on its port or its parse is refused at load.
    @Test(arguments: ["http://hooks.example:99999/", "http://hooks.example:0/", "http://", "https:// spaced host/", "ftp://hooks.example/"])
    func aURLThatCannotBeReachedIsRefused(_ url: String) throws {
        let error = try #require(loadError(flags: ["alert.webhook-url": url]))
        #expect(error.field == "alert.webhook-url")
    }

    @Test func unwatchedClusterSettings() throws {
        #expect(try ConfigLoader.load(flags: [:], environment: [:], file: nil).alertsOnUnwatchedClusters)
        let watching = try ConfigLoader.load(
            flags: ["tigerbeetle.cluster": "0", "tigerbeetle.addresses": "3001"], environment: [:], file: nil)
        #expect(!watching.alertsOnUnwatchedClusters)
        let asked = try ConfigLoader.load(
            flags: ["tigerbeetle.cluster": "0", "tigerbeetle.addresses": "3001", "alert.unwatched-clusters": "true"],
            environment: [:], file: nil)
        #expect(asked.alertsOnUnwatchedClusters)
        #expect(
            !(try ConfigLoader.load(flags: ["alert.unwatched-clusters": "false"], environment: [:], file: nil).alertsOnUnwatchedClusters))
        #expect(
            try ConfigLoader.load(flags: ["limits.max-unwatched-clusters": "0"], environment: [:], file: nil).limitsMaxUnwatchedClusters
                == 0)
        #expect(loadError(flags: ["limits.max-unwatched-clusters": "1001"])?.field == "limits.max-unwatched-clusters")
        #expect(loadError(flags: ["alert.unwatched-clusters": "maybe"])?.field == "alert.unwatched-clusters")
    }

    /// `--tigerbeetle.cluster 0` and a file cluster 0 with other addresses: the file entry was dropped silently.
    @Test func aClusterDefinedTwiceNamesBothPlaces() throws {
        let file = (
            name: "beetlewatch.yml",
            contents:
                "tigerbeetle:\n  clusters:\n    - {cluster: 7, addresses: \"3001\"}\n    - {cluster: 0, addresses: \"4001,4002,4003\"}\n"
        )
        let error = try #require(loadError(flags: ["tigerbeetle.cluster": "0", "tigerbeetle.addresses": "3001,3002,3003"], file: file))
        #expect(error.field == "tigerbeetle.cluster")
        #expect(error.source == "--tigerbeetle.cluster and beetlewatch.yml: tigerbeetle.clusters[1]")
        #expect(error.reason.contains("defined twice"))
        // Different clusters in both places are fine.
        let both = try ConfigLoader.load(
            flags: ["tigerbeetle.cluster": "1", "tigerbeetle.addresses": "3001"], environment: [:], file: file)
        #expect(both.watchedClusters.map(\.name) == ["1", "7", "0"])
    }

    /// `addresses: [39001, {a: b}, 39002]` watched two replicas of three.
    @Test func aMalformedAddressItemIsAnError() throws {
        let file = (name: "c.yml", contents: "tigerbeetle:\n  clusters:\n    - {cluster: 1, addresses: [39001, {a: b}, 39002]}\n")
        let error = try #require(loadError(file: file))
        #expect(error.field == "tigerbeetle.clusters[0].addresses[1]")
        #expect(error.source == "c.yml")
        let list = (name: "l.yml", contents: "alert:\n  webhook-url: [http://a.example/, [http://b.example/]]\n")
        #expect(loadError(file: list)?.field == "alert.webhook-url[1]")
    }
}

/// What the config fuzzer found: errors that named no field.
@Suite struct ConfigFuzzFindingsTests {
    @Test func anEmptyFlagNameOrKeyIsNamed() throws {
        let flag = try #require(loadError(flags: ["": ":m"]))
        #expect(flag.field == "(flag)" && flag.reason == "an empty flag name")
        let key = try #require(loadError(file: (name: "x.yml", contents: "\"\": 1\n")))
        #expect(key.field == "(file)" && key.reason.contains("non-empty"))
        let nested = try #require(loadError(file: (name: "x.yml", contents: "statsd: {\"\": 1}\n")))
        #expect(nested.field == "statsd")
    }
}
