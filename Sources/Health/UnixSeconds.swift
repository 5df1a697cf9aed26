import TigerBeetle

/// Times in beetlewatch's documents are Unix seconds; inside, `WallInstant`s.
enum UnixSeconds {
    /// Unix seconds from a document back to an instant; a value no time can have is a decoding error, not a trap.
    static func instant<Key: CodingKey>(_ seconds: Double, _ c: KeyedDecodingContainer<Key>, _ key: Key) throws -> WallInstant {
        guard let instant = WallInstant(unixSeconds: seconds) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "\(seconds) is not a time in Unix seconds")
        }
        return instant
    }
}
