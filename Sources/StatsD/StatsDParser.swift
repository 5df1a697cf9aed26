#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Parses StatsD and DogStatsD lines straight from received bytes.
///
/// Grammar: `name:value[:value...]|type[|@rate][|#tag:value,...][|c:container][|T<unix>][|e:external]`,
/// with `rate` from `minSampleRate` to 1.
/// A line is accepted or rejected whole: a rejected line returns its reason and
/// leaves nothing behind. The parser allocates nothing: numeric values go into a
/// caller-owned buffer that keeps its capacity between lines.
public struct StatsDParser: Sendable {
    /// Lines longer than this many bytes are rejected as `line_too_long`.
    public var maxLineLength: Int

    /// The smallest sample rate accepted: `@rate` scales a counter by `1/rate` and repeats a timer
    /// sample `⌊1/rate⌋` times, so a tiny rate would turn one line into an astronomical value.
    /// One in a million is far below what StatsD clients sample at.
    public static let minSampleRate = 0.000_001

    public init(maxLineLength: Int = 65_535) {
        self.maxLineLength = maxLineLength
    }

    /// Parses one line (without its `\n`; a trailing `\r` is tolerated).
    public func parseLine(_ line: UnsafeRawBufferPointer, values: inout [StatsDValue]) -> StatsDLineKind {
        parse(line, values: &values, deferringByteCheck: false)
    }

    /// `parseLine`, except that the check for control characters and invalid UTF-8 may be left to the caller for
    /// the name and tags (`StatsDMetricLine.namesUnchecked`): when everything else on the line is held to a strict
    /// grammar (numbers, a type code, a rate), a caller that already knows these exact name and tag bytes (a cache of
    /// line shapes it checked) need not scan them again. The caller must run `checkNames` before trusting bytes it
    /// has not seen. A rejected line is parsed again in full, so the reason is the one `parseLine` gives.
    public func parseLineDeferringByteCheck(_ line: UnsafeRawBufferPointer, values: inout [StatsDValue]) -> StatsDLineKind {
        let kind = parse(line, values: &values, deferringByteCheck: true)
        if case .invalid = kind { return parseLine(line, values: &values) }
        return kind
    }

    /// What `parseLine` would have said of a line whose name and tags were left unchecked, or nil when they are
    /// fine: control characters first (anywhere), then invalid UTF-8.
    public static func checkNames(_ metric: StatsDMetricLine) -> ParseError? {
        // Control characters first in either part, as parseLine's one scan of the whole line finds them.
        if scanBytes(metric.name) == .control || scanBytes(metric.tags) == .control { return .controlCharacter }
        return byteError(metric.name) ?? byteError(metric.tags)
    }

    @inline(__always)
    func parse(_ line: UnsafeRawBufferPointer, values: inout [StatsDValue], deferringByteCheck: Bool) -> StatsDLineKind {
        var end = line.count
        if end > 0 && line[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        if end == 0 { return .empty }
        if end > maxLineLength { return .invalid(.lineTooLong) }
        let line = UnsafeRawBufferPointer(rebasing: line[0..<end])
        if end >= 3 && line[0] == UInt8(ascii: "_") {
            if line[1] == UInt8(ascii: "e") && line[2] == UInt8(ascii: "{") { return .event }
            if end >= 4 && line[1] == UInt8(ascii: "s") && line[2] == UInt8(ascii: "c") && line[3] == UInt8(ascii: "|") {
                return .serviceCheck
            }
        }

        if !deferringByteCheck {
            if let error = Self.byteError(line) { return .invalid(error) }
        }
        let colon = Self.index(of: UInt8(ascii: ":"), in: line, from: 0)
        let pipe = Self.index(of: UInt8(ascii: "|"), in: line, from: 0)
        if colon == end || pipe == end || pipe < colon { return .invalid(.malformedLine) }
        if colon == 0 { return .invalid(.emptyName) }

        // Type, then optional components, each introduced by '|'.
        let typeStart = pipe + 1
        // A type code is one or two bytes: look there before searching the rest of the line.
        let typeEnd: Int
        if typeStart + 1 >= end || line[typeStart + 1] == UInt8(ascii: "|") {
            typeEnd = min(typeStart + 1, end)
        } else if typeStart + 2 >= end || line[typeStart + 2] == UInt8(ascii: "|") {
            typeEnd = min(typeStart + 2, end)
        } else {
            typeEnd = Self.index(of: UInt8(ascii: "|"), in: line, from: typeStart)
        }
        guard let type = MetricType(code: UnsafeRawBufferPointer(rebasing: line[typeStart..<typeEnd])) else {
            return .invalid(.invalidType)
        }
        var sampleRate = 1.0
        var sawRate = false
        var tags = UnsafeRawBufferPointer(start: nil, count: 0)
        var sawTags = false
        var componentEnd = typeEnd
        // A component held to no grammar (timestamp, container id, external data).
        var sawFreeComponent = false
        while componentEnd < end {
            let start = componentEnd + 1
            componentEnd = Self.index(of: UInt8(ascii: "|"), in: line, from: start)
            if start == componentEnd { return .invalid(.invalidComponent) }
            let component = UnsafeRawBufferPointer(rebasing: line[start..<componentEnd])
            switch component[0] {
            case UInt8(ascii: "@"):
                if sawRate { return .invalid(.invalidComponent) }
                sawRate = true
                guard let rate = Self.parseNumber(UnsafeRawBufferPointer(rebasing: component[1...])),
                    rate.value >= Self.minSampleRate, rate.value <= 1
                else { return .invalid(.invalidSampleRate) }
                sampleRate = rate.value
            case UInt8(ascii: "#"):
                if sawTags { return .invalid(.invalidComponent) }
                sawTags = true
                tags = UnsafeRawBufferPointer(rebasing: component[1...])
            case UInt8(ascii: "T"):
                // DogStatsD client-side timestamp: accepted, not used (Prometheus stamps at scrape).
                sawFreeComponent = true
            case UInt8(ascii: "c"), UInt8(ascii: "e"):
                // DogStatsD container id (`c:`) and external data (`e:`): accepted, not used.
                if component.count < 2 || component[1] != UInt8(ascii: ":") { return .invalid(.invalidComponent) }
                sawFreeComponent = true
            default:
                return .invalid(.invalidComponent)
            }
        }

        // Set members and free components are held to no grammar: their bytes are checked here after all.
        var namesUnchecked = deferringByteCheck
        if deferringByteCheck && (type == .set || sawFreeComponent) {
            if let error = Self.byteError(line) { return .invalid(error) }
            namesUnchecked = false
        }
        let rawValues = UnsafeRawBufferPointer(rebasing: line[(colon + 1)..<pipe])
        var valueCount = 0
        var first = StatsDValue(value: 0, signed: false)
        if type == .set {
            if rawValues.isEmpty { return .invalid(.invalidValue) }
        } else {
            var start = 0
            while true {
                let stop = Self.shortIndex(of: UInt8(ascii: ":"), in: rawValues, from: start)
                guard let parsed = Self.parseNumber(UnsafeRawBufferPointer(rebasing: rawValues[start..<stop])) else {
                    return .invalid(.invalidValue)
                }
                if type == .counter && parsed.value < 0 { return .invalid(.negativeCounter) }
                // One value (nearly every line) stays inline; the buffer is filled only for several.
                if valueCount == 0 {
                    first = parsed
                } else {
                    if valueCount == 1 {
                        values.removeAll(keepingCapacity: true)
                        values.append(first)
                    }
                    values.append(parsed)
                }
                valueCount += 1
                if stop == rawValues.count { break }
                start = stop + 1
            }
        }
        return .metric(
            StatsDMetricLine(
                name: UnsafeRawBufferPointer(rebasing: line[0..<colon]),
                type: type,
                sampleRate: sampleRate,
                tags: tags,
                rawValues: rawValues,
                valueCount: valueCount,
                first: first,
                namesUnchecked: namesUnchecked
            ))
    }

    /// `index(of:in:from:)` for a few bytes (a value: up to 20 or so), where a byte loop beats a call to `memchr`.
    @inline(__always)
    static func shortIndex(of byte: UInt8, in buffer: UnsafeRawBufferPointer, from: Int) -> Int {
        let n = buffer.count
        guard n - from <= 24 else { return index(of: byte, in: buffer, from: from) }
        var i = from
        while i < n && buffer[i] != byte { i += 1 }
        return i
    }

    /// The index of the first `byte` at or after `from`, or `buffer.count`.
    @inlinable @inline(__always)
    public static func index(of byte: UInt8, in buffer: UnsafeRawBufferPointer, from: Int) -> Int {
        guard from < buffer.count, let base = buffer.baseAddress else { return buffer.count }
        guard let found = memchr(base + from, Int32(byte), buffer.count - from) else { return buffer.count }
        return base.distance(to: UnsafeRawPointer(found))
    }

    enum ByteClass { case ascii, nonASCII, control }

    /// Why `bytes` cannot be on a line (a control character, then invalid UTF-8), or nil.
    @inline(__always)
    static func byteError(_ bytes: UnsafeRawBufferPointer) -> ParseError? {
        switch scanBytes(bytes) {
        case .control: .controlCharacter
        case .nonASCII: UTF8Validation.isValid(bytes) ? nil : .invalidUTF8
        case .ascii: nil
        }
    }

    /// Whether a line holds a control character (below 0x20, or 0x7F), or bytes above ASCII: two words a step,
    /// the last bytes as one in-bounds word (bytes checked twice change nothing).
    @inline(__always)
    static func scanBytes(_ line: UnsafeRawBufferPointer) -> ByteClass {
        let n = line.count
        var i = 0
        if n < 8 {
            var high: UInt8 = 0
            while i < n {
                let b = line[i]
                if b < 0x20 || b == 0x7F { return .control }
                high |= b
                i += 1
            }
            return high & 0x80 != 0 ? .nonASCII : .ascii
        }
        var high: UInt64 = 0
        while i &+ 16 <= n {
            let a = wordHasControl(line.loadUnaligned(fromByteOffset: i, as: UInt64.self), &high)
            let b = wordHasControl(line.loadUnaligned(fromByteOffset: i &+ 8, as: UInt64.self), &high)
            if a || b { return .control }
            i &+= 16
        }
        if i &+ 8 <= n {
            if wordHasControl(line.loadUnaligned(fromByteOffset: i, as: UInt64.self), &high) { return .control }
            i &+= 8
        }
        if i < n, wordHasControl(line.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self), &high) { return .control }
        return high != 0 ? .nonASCII : .ascii
    }

    /// Whether one word holds a control byte; ORs its bytes above ASCII into `high`.
    @inline(__always)
    static func wordHasControl(_ w: UInt64, _ high: inout UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        let below20 = (w &- ones &* 0x20) & ~w & highBits
        let del = w ^ (ones &* 0x7F)
        let is7F = (del &- ones) & ~del & highBits
        high |= w & highBits
        return below20 | is7F != 0
    }

    /// Parses a finite decimal number: `[+-]digits[.digits][e[+-]digits]`.
    /// Returns nil for anything else, including NaN, infinities, hex and
    /// values beyond float64's range.
    public static func parseNumber(_ text: UnsafeRawBufferPointer) -> StatsDValue? {
        let count = text.count
        if count == 0 { return nil }
        var i = 0
        var negative = false
        var signed = false
        if text[0] == UInt8(ascii: "+") || text[0] == UInt8(ascii: "-") {
            signed = true
            negative = text[0] == UInt8(ascii: "-")
            i = 1
        }
        let digitsStart = i
        // Fast path: up to 19 plain digits, which is every value TigerBeetle sends.
        var integer: UInt64 = 0
        while i < count && i - digitsStart < 19 {
            let d = text[i] &- UInt8(ascii: "0")
            if d > 9 { break }
            integer = integer &* 10 &+ UInt64(d)
            i += 1
        }
        if i == count && i > digitsStart {
            let magnitude = Double(integer)
            return StatsDValue(value: negative ? -magnitude : magnitude, signed: signed)
        }
        return parseGeneralNumber(text, signed: signed)
    }

    /// The slow path: validates the characters, then lets `strtod` round correctly.
    static func parseGeneralNumber(_ text: UnsafeRawBufferPointer, signed: Bool) -> StatsDValue? {
        let count = text.count
        if count > 64 { return nil }
        var sawDigit = false
        for b in text {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): sawDigit = true
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"), UInt8(ascii: "-"): break
            default: return nil
            }
        }
        if !sawDigit { return nil }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: count + 1) { buffer -> StatsDValue? in
            for i in 0..<count { buffer[i] = CChar(bitPattern: text[i]) }
            buffer[count] = 0
            let base = buffer.baseAddress!
            var endPointer: UnsafeMutablePointer<CChar>? = nil
            let value = strtod(base, &endPointer)
            guard let endPointer, endPointer - base == count, value.isFinite else { return nil }
            return StatsDValue(value: value, signed: signed)
        }
    }
}
