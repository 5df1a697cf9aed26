import Foundation
import TigerBeetle

/// Parsers for the value kinds settings take. Each returns nil or throws a
/// reason; the caller adds the field name.
public enum ValueParsers {
    /// A Prometheus-style duration: `0`, `500ms`, `30s`, `2m`, `1h30m`, `1d`.
    public static func duration(_ text: String) throws(ReasonError) -> Duration {
        let trimmed = text.trimmingWhitespace()
        if trimmed == "0" { return .zero }
        let units: [(String, Int64)] = [
            ("ms", 1_000_000), ("s", 1_000_000_000), ("m", 60_000_000_000),
            ("h", 3_600_000_000_000), ("d", 86_400_000_000_000), ("w", 604_800_000_000_000),
        ]
        var rest = Substring(trimmed)
        var total: Int64 = 0
        if rest.isEmpty { throw ReasonError("empty duration (examples: 30s, 2m, 1h30m; 0 disables)") }
        while !rest.isEmpty {
            let digits = rest.prefix(while: \.isASCIIDigit)
            guard !digits.isEmpty, let amount = Int64(digits) else {
                throw ReasonError("\"\(text)\" is not a duration (examples: 30s, 2m, 1h30m; 0 disables)")
            }
            rest = rest.dropFirst(digits.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.0) && !(($0.0 == "m") && rest.hasPrefix("ms")) }) else {
                throw ReasonError("\"\(text)\" is not a duration: each number needs a unit (ms, s, m, h, d, w)")
            }
            rest = rest.dropFirst(unit.0.count)
            let (product, overflow) = amount.multipliedReportingOverflow(by: unit.1)
            let (sum, overflow2) = total.addingReportingOverflow(product)
            if overflow || overflow2 { throw ReasonError("\"\(text)\" is too long a duration") }
            total = sum
        }
        return .nanoseconds(total)
    }

    /// A duration within `range` (and 0 too, when `zeroAllowed`: a setting's "off").
    public static func duration(_ text: String, in range: ClosedRange<Duration>, zeroAllowed: Bool = false) throws(ReasonError) -> Duration
    {
        let value = try duration(text)
        if zeroAllowed && value == .zero { return value }
        guard range.contains(value) else {
            throw ReasonError("must be \(describe(range))\(zeroAllowed ? " (or 0)" : ""), got \(text.trimmingWhitespace())")
        }
        return value
    }

    /// `from 100ms to 1h`, in the units a person would write.
    public static func describe(_ range: ClosedRange<Duration>) -> String {
        range.lowerBound == .zero
            ? "at most \(format(range.upperBound))" : "from \(format(range.lowerBound)) to \(format(range.upperBound))"
    }

    /// A duration in the largest unit that divides it: `100ms`, `30s`, `24h`.
    public static func format(_ duration: Duration) -> String {
        let ns = duration.nanoseconds
        if ns == 0 { return "0" }
        let units: [(String, Int64)] = [
            ("d", 86_400_000_000_000), ("h", 3_600_000_000_000), ("m", 60_000_000_000),
            ("s", 1_000_000_000), ("ms", 1_000_000),
        ]
        for (unit, size) in units where ns % size == 0 {
            return "\(ns / size)\(unit)"
        }
        return "\(ns)ns"
    }

    /// An `http://` or `https://` URL with a host, and a port from 1 to 65535 if it names one.
    public static func url(_ text: String) throws(ReasonError) -> String {
        let url = text.trimmingWhitespace()
        guard url.hasPrefix("http://") || url.hasPrefix("https://"), let parsed = URL(string: url),
            let host = parsed.host, !host.isEmpty
        else { throw ReasonError("\"\(url)\" is not an http:// or https:// URL with a host") }
        if let port = parsed.port, !(1...65535).contains(port) {
            throw ReasonError("\"\(url)\": port \(port) is not from 1 to 65535")
        }
        return url
    }

    /// A whole number within `range`.
    public static func integer(_ text: String, in range: ClosedRange<Int>) throws(ReasonError) -> Int {
        guard let n = Int(text.trimmingWhitespace()), range.contains(n) else {
            throw ReasonError("must be a whole number from \(range.lowerBound) to \(range.upperBound), got \(text)")
        }
        return n
    }

    /// A size in bytes: `4194304`, `512KiB`, `4MiB`, `1GiB`, `64KB`, `4MB`.
    public static func byteSize(_ text: String) throws(ReasonError) -> Int {
        let trimmed = text.trimmingWhitespace()
        let digits = trimmed.prefix(while: \.isASCIIDigit)
        let suffix = trimmed.dropFirst(digits.count).trimmingWhitespace()
        let multipliers: [String: Int] = [
            "": 1, "B": 1, "KB": 1000, "MB": 1_000_000, "GB": 1_000_000_000,
            "KiB": 1024, "MiB": 1 << 20, "GiB": 1 << 30,
        ]
        guard !digits.isEmpty, let amount = Int(digits), let multiplier = multipliers[suffix] else {
            throw ReasonError("\"\(text)\" is not a size (examples: 4194304, 512KiB, 4MiB)")
        }
        let (bytes, overflow) = amount.multipliedReportingOverflow(by: multiplier)
        if overflow { throw ReasonError("\"\(text)\" is too large") }
        return bytes
    }

    /// One of a fixed set of words.
    public static func choice<T>(_ text: String, _ options: [(String, T)]) throws(ReasonError) -> T {
        let trimmed = text.trimmingWhitespace()
        guard let match = options.first(where: { $0.0 == trimmed }) else {
            throw ReasonError("\"\(text)\" is not one of: \(options.map(\.0).joined(separator: ", "))")
        }
        return match.1
    }

    /// `host:port`, `[v6]:port` or `:port` (all interfaces).
    public static func listenAddress(_ text: String) throws(ReasonError) -> HostPort {
        let trimmed = text.trimmingWhitespace()
        guard let parsed = HostPort(parsing: trimmed) else {
            throw ReasonError("\"\(text)\" is not an address (examples: 0.0.0.0:8125, 127.0.0.1:9917, [::]:9917, :9917)")
        }
        return parsed
    }
}

/// Why a value was refused, without the field name.
public struct ReasonError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let end = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(String.UnicodeScalarView(scalars[start...end]))
    }
}
