import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real HTTP client (URLSession) for the agent's endpoints.
public enum HTTPTestClient {
    public struct Reply: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: String
    }

    public static func request(_ url: String, method: String = "GET", accept: String? = nil) async throws -> Reply {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        if let accept { request.setValue(accept, forHTTPHeaderField: "Accept") }
        request.timeoutInterval = 10
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields {
            headers[String(describing: key).lowercased()] = String(describing: value)
        }
        return Reply(status: http.statusCode, headers: headers, body: String(decoding: data, as: UTF8.self))
    }

    /// Scrapes until `done` holds for the page (or 20 s pass).
    public static func scrape(port: UInt16, until done: ([String: Double]) -> Bool) async throws -> String {
        try await Poll.until(
            within: 20, every: .milliseconds(50), look: { try await request("http://127.0.0.1:\(port)/metrics").body },
            done: { done(PrometheusText.samples($0)) })
    }
}
