import TigerBeetle

/// TigerBeetle's own forms for a cluster id and replica addresses.
public enum TigerBeetleCluster {
    /// The decimal id `tigerbeetle --cluster` takes → the 32 hex digits of its StatsD `cluster` tag.
    public static func hexID(decimal text: String) throws(ReasonError) -> String {
        let digits = text.trimmingWhitespace()
        guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit) else {
            throw ReasonError("\"\(text)\" is not a cluster id: a decimal number, as tigerbeetle --cluster takes it")
        }
        guard let id = ClusterID.value(decimal: digits) else { throw ReasonError("\"\(text)\" is larger than a 128-bit cluster id") }
        return ClusterID.hex(id)
    }

    /// `tigerbeetle --addresses`: comma-separated; each `host:port`, a bare port
    /// (host 127.0.0.1) or a bare host (port 3001). Index i is replica i.
    public static func addresses(_ text: String) throws(ReasonError) -> [String] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingWhitespace() }
        guard !items.isEmpty, !items.contains(where: \.isEmpty) else {
            throw ReasonError("\"\(text)\" is not an address list (example: 10.0.0.1:3001,10.0.0.2:3001,10.0.0.3:3001)")
        }
        var out: [String] = []
        for item in items {
            if item.allSatisfy(\.isASCIIDigit) {
                guard let port = UInt16(item), port > 0 else { throw ReasonError("\"\(item)\" is not a port") }
                out.append("127.0.0.1:\(port)")
            } else if let parsed = HostPort(parsing: item) {
                guard !parsed.host.isEmpty, parsed.port > 0 else { throw ReasonError("\"\(item)\" needs a host and a port") }
                out.append(parsed.description)
            } else if !item.contains(":") && !item.contains(" ") {
                out.append("\(item):3001")
            } else {
                throw ReasonError("\"\(item)\" is not an address (host:port, a port, or a host)")
            }
        }
        if out.count > 6 { throw ReasonError("TigerBeetle clusters have at most 6 replicas; got \(out.count) addresses") }
        return out
    }
}
