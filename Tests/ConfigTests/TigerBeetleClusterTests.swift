import Foundation
import Health
import Testing
import TigerBeetle

@testable import Config

@Suite struct TigerBeetleClusterTests {
    @Test(arguments: [
        ("0", "00000000000000000000000000000000"),
        ("1", "00000000000000000000000000000001"),
        ("255", "000000000000000000000000000000ff"),
        ("18446744073709551616", "00000000000000010000000000000000"),
        ("340282366920938463463374607431768211455", "ffffffffffffffffffffffffffffffff"),
    ])
    func clusterIDsBecomeTheirStatsDTag(_ decimal: String, _ hex: String) throws {
        #expect(try TigerBeetleCluster.hexID(decimal: decimal) == hex)
    }

    @Test(arguments: ["", "-1", "0x10", "abc", "340282366920938463463374607431768211456"])
    func badClusterIDs(_ text: String) {
        #expect(throws: ReasonError.self) { try TigerBeetleCluster.hexID(decimal: text) }
    }

    @Test(arguments: [
        ("3000,3001,3002", ["127.0.0.1:3000", "127.0.0.1:3001", "127.0.0.1:3002"]),
        ("10.0.0.1:3001, 10.0.0.2:3001", ["10.0.0.1:3001", "10.0.0.2:3001"]),
        ("10.0.0.1", ["10.0.0.1:3001"]),
        ("tigerbeetle-0:3000", ["tigerbeetle-0:3000"]),
    ])
    func addressesInTigerBeetlesForm(_ text: String, _ addresses: [String]) throws {
        #expect(try TigerBeetleCluster.addresses(text) == addresses)
    }

    @Test(arguments: ["", "a,,b", "host:", "1,2,3,4,5,6,7", "0"])
    func badAddresses(_ text: String) {
        #expect(throws: ReasonError.self) { try TigerBeetleCluster.addresses(text) }
    }

    @Test func oneClusterFromFlags() throws {
        let config = try ConfigLoader.load(
            flags: ["tigerbeetle.cluster": "0", "tigerbeetle.addresses": "3000,3001,3002"], environment: [:], file: nil)
        #expect(
            config.watchedClusters == [
                WatchedCluster(
                    id: String(repeating: "0", count: 32), name: "0",
                    addresses: ["127.0.0.1:3000", "127.0.0.1:3001", "127.0.0.1:3002"])
            ])
    }

    @Test func severalClustersFromTheFile() throws {
        let config = try ConfigLoader.load(
            flags: [:], environment: ["BEETLEWATCH_TIGERBEETLE_CLUSTER": "7", "BEETLEWATCH_TIGERBEETLE_ADDRESSES": "10.1.0.1:3001"],
            file: try fixture("clusters.yml"))
        #expect(config.watchedClusters.map(\.name) == ["7", "0", "340282366920938463463374607431768211455"])
        #expect(config.watchedClusters[2].addresses == ["127.0.0.1:3000", "127.0.0.1:3001", "127.0.0.1:3002"])
        #expect(config.probeInterval == .seconds(5))
        #expect(config.readyRequire == .all)
    }

    @Test func aClusterNeedsBothIDAndAddresses() {
        let error = loadError(flags: ["tigerbeetle.addresses": "3000"])
        #expect(error?.field == "tigerbeetle.cluster")
        #expect(error?.source == "--tigerbeetle.addresses")
        let other = loadError(env: ["BEETLEWATCH_TIGERBEETLE_CLUSTER": "1"])
        #expect(other?.field == "tigerbeetle.addresses")
    }

    @Test func aBadClusterInTheFileNamesItsIndex() throws {
        let error = loadError(file: try fixture("bad-cluster.yml"))
        #expect(error?.field == "tigerbeetle.clusters[1]")
        #expect(error?.reason.contains("not a cluster id") == true)
    }

    @Test func probeAndReadySettings() throws {
        #expect(loadError(flags: ["probe.interval": "10ms"])?.field == "probe.interval")
        #expect(loadError(flags: ["ready.require": "most"])?.reason.contains("quorum, all") == true)
        let config = try ConfigLoader.load(flags: ["statsd.stale-after": "40s", "probe.timeout": "250ms"], environment: [:], file: nil)
        #expect(config.statsdStaleAfter == .seconds(40))
        #expect(config.probeTimeout == .milliseconds(250))
        #expect(config.probeInterval == .milliseconds(500))
        #expect(config.readyRequire == .quorum)
    }
}
