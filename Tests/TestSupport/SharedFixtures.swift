import Foundation

/// The shared, read-only fixtures beside the repository (`../shared/fixtures`).
public enum SharedFixtures {
    public static var directory: URL {
        if let override = ProcessInfo.processInfo.environment["BEETLEWATCH_FIXTURES"] {
            return URL(fileURLWithPath: override)
        }
        // Tests/TestSupport/SharedFixtures.swift → repository root → ../shared/fixtures
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.deletingLastPathComponent().appendingPathComponent("shared/fixtures")
    }

    public static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    public static let captureName = "tigerbeetle-3-replicas.statsd.jsonl"

    public static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// The capture's datagrams, in arrival order, as (seconds, text).
    public static func capture(_ name: String = captureName) throws -> [(time: Double, text: String)] {
        let text = try String(contentsOf: url(name), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            return ((object["t"] as! NSNumber).doubleValue, object["data"] as! String)
        }
    }
}
