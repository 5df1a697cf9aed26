/// A cluster beetlewatch was told to watch: its id and every replica's address.
public struct WatchedCluster: Sendable, Equatable, Codable {
    /// The id as TigerBeetle's `cluster` StatsD tag writes it: 32 hex digits.
    public var id: String
    /// The id as configured (decimal, as `tigerbeetle --cluster` takes it).
    public var name: String
    /// `host:port` of replica i at index i, as `tigerbeetle --addresses` lists them.
    public var addresses: [String]

    public init(id: String, name: String, addresses: [String]) {
        self.id = id
        self.name = name
        self.addresses = addresses
    }
}
