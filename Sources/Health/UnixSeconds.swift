/// Times in beetlewatch's documents are Unix seconds; inside, nanoseconds.
enum UnixSeconds {
    /// Unix seconds from a document back to nanoseconds; a value no time can have is a decoding error, not a trap.
    static func nanoseconds<Key: CodingKey>(_ seconds: Double, _ c: KeyedDecodingContainer<Key>, _ key: Key) throws -> Int64 {
        guard let value = Int64(exactly: (seconds * 1e9).rounded()) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "\(seconds) is not a time in Unix seconds")
        }
        return value
    }
}
