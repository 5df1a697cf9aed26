import Foundation

/// A StatsD capture in the recorded fixtures' format: one JSON object a line,
/// `{"t": seconds since the start, "data": the datagram's text}`.
public struct CaptureFile: Sendable {
    public struct Datagram: Sendable {
        public var time: Double
        public var bytes: [UInt8]
    }

    public var datagrams: [Datagram]

    public init(datagrams: [Datagram]) {
        self.datagrams = datagrams
    }

    public enum LoadError: Error, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case malformed(path: String, line: Int, reason: String)

        public var description: String {
            switch self {
            case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
            case .malformed(let path, let line, let reason): "\(path):\(line): \(reason)"
            }
        }
    }

    public static func load(path: String) throws -> CaptureFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw LoadError.unreadable(path: path, reason: error.localizedDescription)
        }
        return try parse(text, name: path)
    }

    public static func parse(_ text: String, name: String) throws -> CaptureFile {
        var datagrams: [Datagram] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.allSatisfy(\.isWhitespace) { continue }
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8))
            guard let record = object as? [String: Any] else {
                throw LoadError.malformed(path: name, line: index + 1, reason: "not a JSON object")
            }
            guard let time = (record["t"] as? NSNumber)?.doubleValue else {
                throw LoadError.malformed(path: name, line: index + 1, reason: "missing number \"t\"")
            }
            guard let data = record["data"] as? String else {
                throw LoadError.malformed(path: name, line: index + 1, reason: "missing string \"data\"")
            }
            datagrams.append(Datagram(time: time, bytes: Array(data.utf8)))
        }
        return CaptureFile(datagrams: datagrams)
    }
}
