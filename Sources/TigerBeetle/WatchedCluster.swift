/// A cluster beetlewatch was told to watch: its id and every replica's address.
public struct WatchedCluster: Sendable, Equatable, Codable {
    /// The id as TigerBeetle's `cluster` StatsD tag writes it: 32 hex digits.
    public var id: String
    /// The id as configured (decimal, as `tigerbeetle --cluster` takes it).
    public var name: String
    /// `host:port` of replica i at index i, as `tigerbeetle --addresses` lists them.
    public var addresses: [String]
    /// Whether beetlewatch runs a canary against it (`canary: false` in its config entry turns it off).
    public var canary: Bool

    public init(id: String, name: String, addresses: [String], canary: Bool = true) {
        self.id = id
        self.name = name
        self.addresses = addresses
        self.canary = canary
    }

    enum CodingKeys: String, CodingKey { case id, name, addresses, canary }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try c.decode(String.self, forKey: .id), name: try c.decode(String.self, forKey: .name),
            addresses: try c.decode([String].self, forKey: .addresses), canary: try c.decodeIfPresent(Bool.self, forKey: .canary) ?? true)
    }
}
