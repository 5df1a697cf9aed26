/// The recent past of every replica's verdict, for the status page and `/api/v1/events`: each change of state
/// as an event (at most `maxEvents`, the newest kept), and per replica the states of the last `window`, for its
/// timeline. Pure: fed reports (each carries its time), bounded whatever the input.
public struct VerdictHistory: Sendable, Equatable {
    /// One change of a replica's verdict.
    public struct Event: Sendable, Equatable, Codable {
        /// Unix seconds.
        public var at: Double
        public var cluster: String
        public var replica: Int
        /// nil for the first verdict seen.
        public var from: ReplicaState?
        public var to: ReplicaState
        /// The reasons of the new verdict, as the status shows them.
        public var reasons: [String]
    }

    /// A replica's state from `since` (Unix seconds) until the next segment or now.
    public struct Segment: Sendable, Equatable {
        public var since: Double
        public var state: ReplicaState
    }

    public struct Key: Sendable, Hashable, Comparable {
        public var cluster: String
        public var replica: Int

        public init(cluster: String, replica: Int) {
            self.cluster = cluster
            self.replica = replica
        }

        public static func < (a: Key, b: Key) -> Bool { (a.cluster, a.replica) < (b.cluster, b.replica) }
    }

    public static let maxEvents = 500
    /// Segments a replica's timeline keeps at most: a replica flapping every second does not grow it past this.
    public static let maxSegments = 240
    /// Replicas followed at most (the health model has its own limits; this keeps the history bounded anyway).
    public static let maxReplicas = 4_096
    /// How far back a timeline reaches, seconds.
    public let window: Double

    public private(set) var events: [Event] = []
    public private(set) var timelines: [Key: [Segment]] = [:]

    public init(window: Double = 900) {
        self.window = window
    }

    /// Records the verdicts of `report` (its `generatedAt` is now); replicas no longer in it are forgotten.
    public mutating func record(_ report: HealthReport) {
        let now = report.generatedAt
        var seen = Set<Key>()
        for cluster in report.clusters {
            for replica in cluster.replicas {
                let key = Key(cluster: cluster.id, replica: replica.replica)
                guard seen.count < Self.maxReplicas else { break }
                seen.insert(key)
                var segments = timelines[key] ?? []
                let previous = segments.last?.state
                if previous != replica.state {
                    segments.append(Segment(since: now, state: replica.state))
                    events.append(
                        Event(
                            at: now, cluster: cluster.id, replica: replica.replica, from: previous, to: replica.state,
                            reasons: replica.reasons.map(\.detail)))
                }
                // Segments wholly before the window go; the one the window starts in stays (its state held then).
                while segments.count > 1, segments[1].since <= now - window { segments.removeFirst() }
                if segments.count > Self.maxSegments { segments.removeFirst(segments.count - Self.maxSegments) }
                timelines[key] = segments
            }
        }
        timelines = timelines.filter { seen.contains($0.key) }
        if events.count > Self.maxEvents { events.removeFirst(events.count - Self.maxEvents) }
    }
}
