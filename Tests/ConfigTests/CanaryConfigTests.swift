import Testing

@testable import Config

/// The canary's settings: on by default, off globally or per cluster, its timing in range.
@Suite struct CanaryConfigTests {
    static let file = """
        tigerbeetle:
          clusters:
            - cluster: 0
              addresses: 10.0.0.1:3001,10.0.0.2:3001,10.0.0.3:3001
            - cluster: 1
              addresses: [10.0.1.1:3001, 10.0.1.2:3001, 10.0.1.3:3001]
              canary: false
        canary:
          interval: 2s
          timeout: 500ms
        """

    @Test func onByDefaultOffPerCluster() throws {
        let config = try ConfigLoader.load(flags: [:], environment: [:], file: ("beetlewatch.yml", Self.file))
        #expect(config.watchedClusters.map(\.canary) == [true, false])
        let timing = try #require(config.canaryTiming)
        #expect(timing.interval == .seconds(2) && timing.timeout == .milliseconds(500))
        #expect(config.healthPolicy(startedAt: .epoch).canaryForwardWait == .milliseconds(250))
        let off = try ConfigLoader.load(flags: ["canary.enabled": "false"], environment: [:], file: nil)
        #expect(off.canaryTiming == nil)
    }

    @Test func aBadValueNamesItsField() {
        let bad = Self.file.replacingOccurrences(of: "canary: false", with: "canary: sometimes")
        #expect {
            try ConfigLoader.load(flags: [:], environment: [:], file: ("beetlewatch.yml", bad))
        } throws: { error in
            "\(error)".contains("tigerbeetle.clusters[1].canary") && "\(error)".contains("expected true or false")
        }
        #expect(throws: (any Error).self) {
            try ConfigLoader.load(flags: ["canary.interval": "10ms"], environment: [:], file: nil)
        }
    }
}
