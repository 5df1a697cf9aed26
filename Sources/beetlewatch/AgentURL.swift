import Foundation

/// Where `check` and `status` ask: the `--url` an operator typed, as a base URL (`http://host:9917`, or under
/// a reverse proxy's prefix) or as the endpoint itself (`http://host:9917/ready`).
enum AgentURL {
    /// `given` with `endpoint` (`/ready`, `/api/v1/status`) as its path's end; its query and fragment dropped.
    static func resolve(_ given: String, endpoint: String) -> String {
        guard var components = URLComponents(string: given), components.host != nil else { return given }
        var path = components.path
        if !path.hasSuffix(endpoint) {
            while path.hasSuffix("/") { path.removeLast() }
            path += endpoint
        }
        components.path = path
        components.query = nil
        components.fragment = nil
        return components.string ?? given
    }

    /// The agent's base URL in a resolved `url` (what precedes `endpoint`).
    static func base(of url: String, endpoint: String) -> String {
        url.hasSuffix(endpoint) ? String(url.dropLast(endpoint.count)) : url
    }

    /// What a reply that is not the expected document was, for the message: its status, and the start of its body.
    static func describe(status: Int, body: Data) -> String {
        let text = String(decoding: body.prefix(80), as: UTF8.self)
            .replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? "\(status) with an empty body" : "\(status) with \"\(text)\(body.count > 80 ? "…" : "")\""
    }
}
