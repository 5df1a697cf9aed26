import Foundation
import MetricStore

/// Writes the Prometheus text format (0.0.4) into a page buffer.
public struct ExpositionWriter {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// The page written so far.
    public let page: PageBuffer

    /// The bytes written, copied out.
    public var bytes: [UInt8] { page.bytes }

    public init(capacity: Int = 64 * 1024) {
        page = PageBuffer(capacity: capacity)
    }

    /// `# HELP` and `# TYPE` lines of a family.
    public mutating func family(name: String, help: String, type: FamilyType) {
        page.append("# HELP ")
        page.append(name)
        page.append(UInt8(ascii: " "))
        page.append(Self.escapeHelp(help))
        page.append("\n# TYPE ")
        page.append(name)
        page.append(UInt8(ascii: " "))
        page.append(type.rawValue)
        page.append(UInt8(ascii: "\n"))
    }

    /// One sample line: `name[suffix][labels] value`. `labels` is already rendered (`{...}` or empty).
    public mutating func sample(name: String, suffix: String = "", labels: String, value: Double) {
        page.append(name)
        if !suffix.isEmpty { page.append(suffix) }
        page.append(labels)
        page.append(UInt8(ascii: " "))
        var sink = page
        Self.formatValue(value, into: &sink)
        page.append(UInt8(ascii: "\n"))
    }

    /// One sample line of a stored series: `name[suffix]{labels[,extra]} value`, the name and suffix as bytes (found once
    /// a family, not once a sample).
    @inline(__always)
    public mutating func sample(
        name: UnsafeRawBufferPointer, suffix: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        labels: SeriesLabels, adding extra: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0), value: Double
    ) {
        var page = self.page
        page.append(contentsOf: name)
        if !suffix.isEmpty { page.append(contentsOf: suffix) }
        labels.write(into: &page, adding: extra)
        page.append(UInt8(ascii: " "))
        Self.formatValue(value, into: &page)
        page.append(UInt8(ascii: "\n"))
    }

    /// HELP text escapes `\` and newline.
    public static func escapeHelp(_ help: String) -> String {
        guard help.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\n") }) else { return help }
        return help.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// Formats a sample value as Prometheus parses it: integers without a
    /// fraction, `+Inf`, `-Inf`, `NaN`, and otherwise the shortest round-trip form.
    public static func appendValue(_ value: Double, to bytes: inout [UInt8]) {
        formatValue(value, into: &bytes)
    }

    /// `appendValue`'s text, into any sink (integers from a buffer on the stack).
    @inline(__always)
    static func formatValue<Sink: ByteSink>(_ value: Double, into sink: inout Sink) {
        if value.isNaN {
            emitText("NaN", into: &sink)
            return
        }
        if value.isInfinite {
            emitText(value > 0 ? "+Inf" : "-Inf", into: &sink)
            return
        }
        if value == value.rounded(.towardZero) && abs(value) < 1e15 {
            var n = Int64(value)
            var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
            let negative = n < 0
            if negative { n = -n }
            var i = 24
            withUnsafeMutableBytes(of: &digits) { buffer in
                repeat {
                    i -= 1
                    buffer[i] = UInt8(ascii: "0") + UInt8(n % 10)
                    n /= 10
                } while n > 0
                if negative {
                    i -= 1
                    buffer[i] = UInt8(ascii: "-")
                }
            }
            withUnsafeBytes(of: &digits) { sink.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[i..<24])) }
            return
        }
        emitText(value.description, into: &sink)
    }

    private static func emitText<Sink: ByteSink>(_ text: String, into sink: inout Sink) {
        var text = text
        text.withUTF8 { sink.append(contentsOf: UnsafeRawBufferPointer($0)) }
    }
}
