import Foundation

/// A small reader of the text format, for assertions.
public enum PrometheusText {
    /// Sample key `name{labels}` → value (comments skipped).
    public static func samples(_ page: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for line in page.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            let value = line[line.index(after: space)...]
            out[String(line[..<space])] = value == "+Inf" ? .infinity : value == "-Inf" ? -.infinity : Double(value)
        }
        return out
    }

    /// `# TYPE` lines: family → type.
    public static func types(_ page: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in page.split(separator: "\n") where line.hasPrefix("# TYPE ") {
            let parts = line.split(separator: " ")
            out[String(parts[2])] = String(parts[3])
        }
        return out
    }

    /// Relative comparison for values computed along different float paths.
    public static func close(_ a: Double, _ b: Double) -> Bool {
        a == b || abs(a - b) <= 1e-9 * max(abs(a), abs(b))
    }
}

/// Runs Debian's `promtool` (package `prometheus`).
public enum Promtool {
    public struct Result {
        public var status: Int32
        public var output: String
    }

    public static var path: String? {
        ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// `promtool check metrics` with `page` on standard input.
    public static func checkMetrics(_ page: String) throws -> Result {
        try run(["check", "metrics"], input: page)
    }

    public static func run(_ arguments: [String], input: String? = nil) throws -> Result {
        guard let path else {
            return Result(status: -1, output: "promtool not found: install Debian's prometheus package (scripts/test does)")
        }
        let result = try Command.run(path, arguments, input: input)
        return Result(status: result.status, output: result.stdout + result.stderr)
    }
}
