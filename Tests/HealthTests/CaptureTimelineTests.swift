import Health
import TestSupport
import Testing

@Suite struct CaptureTimelineTests {
    let timeline: CaptureTimeline

    init() throws {
        timeline = try CaptureTimeline()
    }

    @Test func allHealthyAfterStartUp() {
        // Every replica has been probed and heard from by 12 s.
        for second in 12...80 {
            for r in 0..<3 {
                #expect(timeline.replica(r, at: second).healthy, "replica \(r) at \(second)s: \(timeline.replica(r, at: second).reasons)")
            }
            #expect(timeline.quorum(at: second) == true)
        }
        #expect(timeline.replica(1, at: 0).state == .unknown)
        #expect(timeline.quorum(at: 0) == false)
    }

    @Test func replicaOneUnreachableAndSilentFromItsKillUntilItsRestart() {
        // Killed at 81.1 s: the next probe (82 s) refuses, until the restart at 127.3 s.
        #expect(!timeline.has(.unreachable, replica: 1, at: 81))
        for second in 82...127 { #expect(timeline.has(.unreachable, replica: 1, at: second), "at \(second)s") }
        #expect(!timeline.has(.unreachable, replica: 1, at: 128))
        // Its last datagram was at 72.1 s: silent 25 s later, until its restart; reachable again from 128 s,
        // it is waiting for StatsD (not silent: it cannot have sent any before it ran) until it speaks at 140.3 s.
        for second in 98...127 { #expect(timeline.has(.silent, replica: 1, at: second), "at \(second)s") }
        for second in 128...140 {
            #expect(timeline.replica(1, at: second).state == .unknown, "at \(second)s")
            #expect(
                timeline.replica(1, at: second).reasons.first?.detail.hasPrefix("waiting for StatsD since it became reachable again")
                    == true)
        }
        #expect(timeline.replica(1, at: 141).healthy)
        // The cluster kept its quorum with 2 of 3.
        for second in 82...166 { #expect(timeline.quorum(at: second) == true, "at \(second)s") }
    }

    @Test func quorumLossDetectedWithin15SecondsWhileReplicaOneStillSaysNormal() throws {
        let killed = 167.259
        let detected = try #require((167...200).first { timeline.quorum(at: $0) == false })
        #expect(Double(detected) - killed <= 15, "detected at \(detected)s")
        print("quorum loss at \(killed)s detected at \(detected)s: \(String(format: "%.1f", Double(detected) - killed))s later")
        for second in detected...202 { #expect(timeline.quorum(at: second) == false, "at \(second)s") }
        // The lone replica keeps reporting replica_status 0 ("normal") throughout...
        for second in [171, 180, 190, 200] {
            #expect(timeline.replica(1, at: second).status == 0)
            #expect(timeline.replica(1, at: second).secondsSinceSeen! < 25)
        }
        // ...but it says it reaches no peer replica: isolated from its 170.5 s sample on.
        for second in 171...202 { #expect(timeline.has(.isolated, replica: 1, at: second), "at \(second)s") }
    }

    @Test func quorumBackAfterTheRestart() throws {
        let back = try #require((203...242).first { timeline.quorum(at: $0) == true })
        // Replicas 0 and 2 restart at 202.3 s and first report at 215.4 s.
        #expect(back <= 217, "quorum back at \(back)s")
        print("replicas 0 and 2 restarted at 202.3s; quorum back at \(back)s")
        for second in back...242 { #expect(timeline.quorum(at: second) == true) }
    }

    @Test func viewChangesCounted() {
        let cluster = timeline.reports[242]!.clusters[0]
        #expect(cluster.viewChanges == 2)
        #expect(cluster.highestView == 3)
        #expect(timeline.reports[80]!.clusters[0].viewChanges == 0)
    }
}
