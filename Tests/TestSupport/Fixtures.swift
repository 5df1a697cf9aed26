import Foundation

/// The recorded fixtures in the repository (`Tests/Fixtures`): real TigerBeetle traffic and protocol exchanges
/// (what each file is: `Tests/Fixtures/README.md`), and the repository's own files.
public enum Fixtures {
    /// The repository's root: Tests/TestSupport/Fixtures.swift → Tests/TestSupport → Tests → root.
    public static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// `Tests/Fixtures`.
    public static var directory: URL { repositoryRoot.appendingPathComponent("Tests/Fixtures") }

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
