import Foundation
import Testing
import TigerBeetle

@testable import Health

/// The wall clock's instants (the `TigerBeetle` module's, tested here beside the documents that carry them): their
/// arithmetic policy, and the Unix seconds the documents write.
@Suite struct WallInstantTests {
    static let now = WallInstant(nanosecondsSinceEpoch: 1_800_000_000_123_456_789)

    @Test func aDifferenceIsADurationAndMayBeNegative() {
        let earlier = Self.now - Duration.milliseconds(1_500)
        #expect(Self.now - earlier == .milliseconds(1_500))
        // The wall clock stepped back between two readings: a negative difference, not an error.
        #expect(earlier - Self.now == .milliseconds(-1_500))
        #expect(earlier < Self.now && earlier + .milliseconds(1_500) == Self.now)
    }

    /// An absurd duration (configured, received) or instant (decoded from a document) saturates: a time that never comes.
    @Test func arithmeticOnAbsurdInputsSaturates() {
        let end = WallInstant(nanosecondsSinceEpoch: .max)
        let start = WallInstant(nanosecondsSinceEpoch: .min)
        #expect(Self.now + Duration.seconds(Int64.max) == end)
        #expect(Self.now - Duration.seconds(Int64.max) - Duration.seconds(Int64.max) == start)
        #expect(end - start == .nanoseconds(Int64.max))
        #expect(start - end == .nanoseconds(Int64.min))
    }

    @Test func unixSecondsAreTheNanosecondsOverABillion() {
        #expect(Self.now.unixSeconds == Double(1_800_000_000_123_456_789) / 1e9)
        #expect(WallInstant(unixSeconds: 1_800_000_000.5) == WallInstant(nanosecondsSinceEpoch: 1_800_000_000_500_000_000))
        #expect(WallInstant(unixSeconds: -1) == WallInstant(nanosecondsSinceEpoch: -1_000_000_000))
        #expect(WallInstant.epoch.unixSeconds == 0)
    }

    @Test(arguments: [Double.nan, .infinity, -.infinity, 1e300, -1e300, 9.3e9])
    func aValueNoTimeCanHaveIsNoInstant(_ seconds: Double) {
        #expect(WallInstant(unixSeconds: seconds) == nil)
    }

    /// The monotonic clock's instants move to the wall clock by the offset between two readings taken together.
    @Test func anOffsetMovesMonotonicInstantsToTheWallClock() {
        let offset = WallClockOffset(wall: Self.now, monotonic: MonotonicInstant(nanoseconds: 5_000_000_000))
        #expect(offset.wall(MonotonicInstant(nanoseconds: 5_000_000_000)) == Self.now)
        #expect(offset.wall(MonotonicInstant(nanoseconds: 3_000_000_000)) == Self.now - Duration.seconds(2))
    }

    /// The documents write Unix seconds, as before times had types, and read them back to the nanosecond; a time no
    /// instant can hold is a decoding error.
    @Test func resultsCarryUnixSecondsInTheirJSON() throws {
        var probe = ProbeResult(outcome: .answering, durationSeconds: 0.001, at: Self.now, reachableSince: .epoch)
        probe.answeredAt = Self.now - Duration.seconds(1)
        var canary = CanaryResult(state: .committing, at: Self.now)
        canary.lastCommitAt = Self.now
        let since = Self.now - Duration.seconds(3)
        canary.unforwarded = [.init(replica: 2, since: since)]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let probeJSON = String(decoding: try encoder.encode(probe), as: UTF8.self)
        #expect(probeJSON.contains("\"at\":\(Self.now.unixSeconds)") && probeJSON.contains("\"reachableSince\":0"))
        let canaryJSON = String(decoding: try encoder.encode(canary), as: UTF8.self)
        #expect(canaryJSON.contains("\"since\":\(since.unixSeconds)"))
        let decoded = try JSONDecoder().decode(ProbeResult.self, from: try encoder.encode(probe))
        #expect(decoded.at == WallInstant(unixSeconds: Self.now.unixSeconds) && decoded.answeredAt != nil)
        #expect(try JSONDecoder().decode(CanaryResult.self, from: try encoder.encode(canary)).unforwarded.map(\.replica) == [2])
        let absurd = Data(#"{"outcome":"answering","durationSeconds":0,"at":1e300}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ProbeResult.self, from: absurd) }
    }
}
