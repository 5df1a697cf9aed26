import Foundation
import MetricStore

/// Writes the Prometheus text format (0.0.4) into a reusable byte buffer.
public struct ExpositionWriter {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 64 * 1024) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// `# HELP` and `# TYPE` lines of a family.
    public mutating func family(name: String, help: String, type: FamilyType) {
        append("# HELP ")
        append(name)
        bytes.append(UInt8(ascii: " "))
        append(Self.escapeHelp(help))
        append("\n# TYPE ")
        append(name)
        bytes.append(UInt8(ascii: " "))
        append(type.rawValue)
        bytes.append(UInt8(ascii: "\n"))
    }

    /// One sample line: `name[suffix][labels] value`. `labels` is already rendered (`{...}` or empty).
    public mutating func sample(name: String, suffix: String = "", labels: String, value: Double) {
        append(name)
        if !suffix.isEmpty { append(suffix) }
        append(labels)
        bytes.append(UInt8(ascii: " "))
        Self.appendValue(value, to: &bytes)
        bytes.append(UInt8(ascii: "\n"))
    }

    @inline(__always)
    private mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// HELP text escapes `\` and newline.
    public static func escapeHelp(_ help: String) -> String {
        guard help.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\n") }) else { return help }
        return help.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// Formats a sample value as Prometheus parses it: integers without a
    /// fraction, `+Inf`, `-Inf`, `NaN`, and otherwise the shortest round-trip form.
    public static func appendValue(_ value: Double, to bytes: inout [UInt8]) {
        if value.isNaN {
            bytes.append(contentsOf: "NaN".utf8)
            return
        }
        if value.isInfinite {
            bytes.append(contentsOf: (value > 0 ? "+Inf" : "-Inf").utf8)
            return
        }
        if value == value.rounded(.towardZero) && abs(value) < 1e15 {
            var n = Int64(value)
            if n == 0 {
                bytes.append(UInt8(ascii: "0"))
                return
            }
            if n < 0 {
                bytes.append(UInt8(ascii: "-"))
                n = -n
            }
            var digits: (UInt64, UInt64) = (0, 0)
            withUnsafeMutableBytes(of: &digits) { buffer in
                var i = 16
                while n > 0 {
                    i -= 1
                    buffer[i] = UInt8(ascii: "0") + UInt8(n % 10)
                    n /= 10
                }
                bytes.append(contentsOf: buffer[i..<16])
            }
            return
        }
        bytes.append(contentsOf: value.description.utf8)
    }
}
