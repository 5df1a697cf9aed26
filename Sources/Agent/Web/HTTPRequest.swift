/// A request as the handler sees it. The lookups are valid only during `handle`.
public struct HTTPRequest {
    public var method: String
    public var path: String
    /// The client's IP address (text), empty when unknown.
    public var client: String
    let headerLookup: (String) -> String?
    let queryLookup: (String) -> String?

    public init(method: String, path: String, headers: [String: String] = [:], query: [String: String] = [:], client: String = "") {
        self.method = method
        self.path = path
        self.client = client
        let lowered = Dictionary(uniqueKeysWithValues: headers.map { ($0.key.lowercased(), $0.value) })
        headerLookup = { lowered[$0.lowercased()] }
        queryLookup = { query[$0] }
    }

    init(method: String, path: String, client: String, header: @escaping (String) -> String?, query: @escaping (String) -> String?) {
        self.method = method
        self.path = path
        self.client = client
        headerLookup = header
        queryLookup = query
    }

    public func header(_ name: String) -> String? { headerLookup(name) }
    public func query(_ name: String) -> String? { queryLookup(name) }
}
