import Testing

@testable import StatsD

/// What a line should parse to, in a form that is easy to write in a table.
enum Expected: Equatable, CustomStringConvertible {
    case metric(
        name: String, type: MetricType, values: [Double], signed: [Bool] = [], rate: Double = 1, tags: String = "", raw: String = "")
    case error(ParseError)
    case event, serviceCheck, empty

    var description: String {
        switch self {
        case .metric(let name, let type, let values, _, let rate, let tags, _): "metric \(name) \(type) \(values) @\(rate) #\(tags)"
        case .error(let reason): "error \(reason.rawValue)"
        case .event: "event"
        case .serviceCheck: "service check"
        case .empty: "empty"
        }
    }
}

func parse(_ line: [UInt8]) -> Expected {
    var values: [StatsDValue] = []
    return line.withUnsafeBytes { bytes -> Expected in
        switch StatsDParser().parseLine(bytes, values: &values) {
        case .metric(let m):
            var all: [StatsDValue] = []
            m.forEachValue(values) { all.append($0) }
            let signed = all.map(\.signed)
            return .metric(
                name: String(decoding: m.name, as: UTF8.self), type: m.type,
                values: all.map(\.value),
                signed: signed.contains(true) ? signed : [], rate: m.sampleRate,
                tags: String(decoding: m.tags, as: UTF8.self),
                raw: m.type == .set ? String(decoding: m.rawValues, as: UTF8.self) : "")
        case .invalid(let reason): return .error(reason)
        case .event: return .event
        case .serviceCheck: return .serviceCheck
        case .empty: return .empty
        }
    }
}

struct ParserCase: CustomTestStringConvertible, Sendable {
    let line: String
    let expected: Expected
    init(_ line: String, _ expected: Expected) {
        self.line = line
        self.expected = expected
    }
    var testDescription: String { line.debugDescription }
}

extension Expected: @unchecked Sendable {}

let tb = "#cluster:00000000000000000000000000000000,replica:0"

let parserCases: [ParserCase] = [
    // Valid: every type.
    .init("foo:1|c", .metric(name: "foo", type: .counter, values: [1])),
    .init("foo:1.5|c", .metric(name: "foo", type: .counter, values: [1.5])),
    .init("foo:+2|c", .metric(name: "foo", type: .counter, values: [2], signed: [true])),
    .init("foo:0|c", .metric(name: "foo", type: .counter, values: [0])),
    .init("foo:42|g", .metric(name: "foo", type: .gauge, values: [42])),
    .init("foo:-42|g", .metric(name: "foo", type: .gauge, values: [-42], signed: [true])),
    .init("foo:+4.5|g", .metric(name: "foo", type: .gauge, values: [4.5], signed: [true])),
    .init("foo:320|ms", .metric(name: "foo", type: .timer, values: [320])),
    .init("foo:0.25|h", .metric(name: "foo", type: .histogram, values: [0.25])),
    .init("foo:7|d", .metric(name: "foo", type: .distribution, values: [7])),
    .init("users:alice|s", .metric(name: "users", type: .set, values: [], raw: "alice")),
    .init("users:42|s", .metric(name: "users", type: .set, values: [], raw: "42")),
    // Numbers.
    .init("foo:1e3|g", .metric(name: "foo", type: .gauge, values: [1000])),
    .init("foo:1.5E-3|g", .metric(name: "foo", type: .gauge, values: [0.0015])),
    .init("foo:.5|g", .metric(name: "foo", type: .gauge, values: [0.5])),
    .init("foo:5.|g", .metric(name: "foo", type: .gauge, values: [5])),
    .init("foo:1795731489814354027|g", .metric(name: "foo", type: .gauge, values: [Double("1795731489814354027")!])),
    .init("foo:99999999999999999999999|g", .metric(name: "foo", type: .gauge, values: [1e23])),
    .init("foo:-0|g", .metric(name: "foo", type: .gauge, values: [0], signed: [true])),
    // Sample rates.
    .init("foo:1|c|@0.1", .metric(name: "foo", type: .counter, values: [1], rate: 0.1)),
    .init("foo:1|c|@1", .metric(name: "foo", type: .counter, values: [1], rate: 1)),
    .init("foo:3|ms|@0.5", .metric(name: "foo", type: .timer, values: [3], rate: 0.5)),
    .init("foo:3|g|@0.5", .metric(name: "foo", type: .gauge, values: [3], rate: 0.5)),
    // DogStatsD tags and multi-value.
    .init("foo:1|c|#a:b,c:d", .metric(name: "foo", type: .counter, values: [1], tags: "a:b,c:d")),
    .init("foo:1|c|@0.5|#a:b", .metric(name: "foo", type: .counter, values: [1], rate: 0.5, tags: "a:b")),
    .init("foo:1|c|#a:b|@0.5", .metric(name: "foo", type: .counter, values: [1], rate: 0.5, tags: "a:b")),
    .init("foo:1|c|#novalue", .metric(name: "foo", type: .counter, values: [1], tags: "novalue")),
    .init("foo:1|c|#url:http://x", .metric(name: "foo", type: .counter, values: [1], tags: "url:http://x")),
    .init("foo:1:2:3|d", .metric(name: "foo", type: .distribution, values: [1, 2, 3])),
    .init("foo:1:2:3|c|#k:v", .metric(name: "foo", type: .counter, values: [1, 2, 3], tags: "k:v")),
    .init("foo:1|c|c:abc123", .metric(name: "foo", type: .counter, values: [1])),
    .init("foo:1|c|T1656581400", .metric(name: "foo", type: .counter, values: [1])),
    .init("foo:1|c|e:it-false,cn-x", .metric(name: "foo", type: .counter, values: [1])),
    .init("foo:1|c|#", .metric(name: "foo", type: .counter, values: [1])),
    // Names.
    .init("tb.replica_status:0|g|\(tb)", .metric(name: "tb.replica_status", type: .gauge, values: [0], tags: String(tb.dropFirst()))),
    .init(
        "tb.replica_request_us.sum:17260|c|\(tb),operation:Operation.create_transfers",
        .metric(
            name: "tb.replica_request_us.sum", type: .counter, values: [17260],
            tags: String(tb.dropFirst()) + ",operation:Operation.create_transfers")),
    .init("my-app.requests/sec:1|c", .metric(name: "my-app.requests/sec", type: .counter, values: [1])),
    .init("café:1|c", .metric(name: "café", type: .counter, values: [1])),
    .init("a b:1|c", .metric(name: "a b", type: .counter, values: [1])),
    // Line endings.
    .init("foo:1|c\r", .metric(name: "foo", type: .counter, values: [1])),
    .init("", .empty),
    .init("\r", .empty),
    // DogStatsD events and service checks.
    .init("_e{5,4}:title|text", .event),
    .init("_e{5,4}:title|text|#a:b", .event),
    .init("_sc|my.check|0", .serviceCheck),
    .init("_sc|my.check|2|#env:prod|m:down", .serviceCheck),
    // Malformed: each with its reason.
    .init("foo", .error(.malformedLine)),
    .init("foo|c", .error(.malformedLine)),
    .init("foo:1", .error(.malformedLine)),
    .init("foo|c:1", .error(.malformedLine)),
    .init(":1|c", .error(.emptyName)),
    .init("foo:|c", .error(.invalidValue)),
    .init("foo:abc|c", .error(.invalidValue)),
    .init("foo:NaN|g", .error(.invalidValue)),
    .init("foo:nan|g", .error(.invalidValue)),
    .init("foo:Inf|g", .error(.invalidValue)),
    .init("foo:+Inf|g", .error(.invalidValue)),
    .init("foo:-Infinity|g", .error(.invalidValue)),
    .init("foo:1e400|g", .error(.invalidValue)),
    .init("foo:-1e400|g", .error(.invalidValue)),
    .init("foo:0x10|g", .error(.invalidValue)),
    .init("foo:1.2.3|g", .error(.invalidValue)),
    .init("foo:1..|g", .error(.invalidValue)),
    .init("foo:1::2|d", .error(.invalidValue)),
    .init("foo:1:|d", .error(.invalidValue)),
    .init("foo: 1|g", .error(.invalidValue)),
    .init("foo:+|g", .error(.invalidValue)),
    .init("foo:e5|g", .error(.invalidValue)),
    .init("foo:\(String(repeating: "1", count: 70)).5|g", .error(.invalidValue)),
    .init("foo:|s", .error(.invalidValue)),
    .init("foo:1|x", .error(.invalidType)),
    .init("foo:1|", .error(.invalidType)),
    .init("foo:1|C", .error(.invalidType)),
    .init("foo:1|msx", .error(.invalidType)),
    .init("foo:1|c:2|g", .error(.invalidType)),
    .init("foo:1|c|@0", .error(.invalidSampleRate)),
    .init("foo:1|c|@-0.5", .error(.invalidSampleRate)),
    .init("foo:1|c|@1.5", .error(.invalidSampleRate)),
    .init("foo:1|c|@abc", .error(.invalidSampleRate)),
    .init("foo:1|c|@", .error(.invalidSampleRate)),
    .init("foo:1|c|@NaN", .error(.invalidSampleRate)),
    .init("foo:1|c||#a:b", .error(.invalidComponent)),
    .init("foo:1|c|", .error(.invalidComponent)),
    .init("foo:1|c|x", .error(.invalidComponent)),
    .init("foo:1|c|@0.5|@0.5", .error(.invalidComponent)),
    .init("foo:1|c|#a:b|#c:d", .error(.invalidComponent)),
    .init("foo:1|c|cabc", .error(.invalidComponent)),
    .init("foo:-1|c", .error(.negativeCounter)),
    .init("foo:1:-2|c", .error(.negativeCounter)),
    .init("foo\u{0}:1|c", .error(.controlCharacter)),
    .init("foo:1|c|#a:b\u{0}", .error(.controlCharacter)),
    .init("foo\t:1|c", .error(.controlCharacter)),
    .init("foo\u{1B}[31m:1|c", .error(.controlCharacter)),
    .init("foo\u{7F}:1|c", .error(.controlCharacter)),
]

/// Lines that cannot be written as Swift string literals (invalid UTF-8).
let byteCases: [(bytes: [UInt8], expected: Expected)] = [
    (Array("foo".utf8) + [0xFF] + Array(":1|c".utf8), .error(.invalidUTF8)),
    (Array("foo".utf8) + [0xC0, 0x80] + Array(":1|c".utf8), .error(.invalidUTF8)),
    (Array("foo".utf8) + [0xED, 0xA0, 0x80] + Array(":1|c".utf8), .error(.invalidUTF8)),
    (Array("foo:1|c|#k:".utf8) + [0xE2, 0x82], .error(.invalidUTF8)),
    (Array("foo:1|c|#k:".utf8) + [0xF4, 0x90, 0x80, 0x80], .error(.invalidUTF8)),
]

@Suite struct StatsDParserTests {
    @Test("parses or rejects with the right reason", arguments: parserCases)
    func table(_ testCase: ParserCase) {
        #expect(parse(Array(testCase.line.utf8)) == testCase.expected)
    }

    @Test("rejects invalid UTF-8")
    func invalidUTF8() {
        for c in byteCases {
            #expect(parse(c.bytes) == c.expected)
        }
    }

    @Test func tableIsLarge() {
        #expect(parserCases.count + byteCases.count >= 60)
        #expect(parserCases.filter { if case .error = $0.expected { true } else { false } }.count >= 30)
    }

    @Test func lineTooLong() {
        var values: [StatsDValue] = []
        let line = Array(("foo:1|c|#k:" + String(repeating: "v", count: 100)).utf8)
        let result = line.withUnsafeBytes { StatsDParser(maxLineLength: 50).parseLine($0, values: &values) }
        guard case .invalid(.lineTooLong) = result else {
            Issue.record("expected line_too_long, got \(result)")
            return
        }
    }

    @Test func oneLineOf64KiBIsParsed() {
        let tag = String(repeating: "x", count: 65_000)
        #expect(parse(Array("foo:1|c|#k:\(tag)".utf8)) == .metric(name: "foo", type: .counter, values: [1], tags: "k:\(tag)"))
    }

    @Test func randomBytesNeverCrash() {
        var generator = SystemRandomNumberGenerator()
        var values: [StatsDValue] = []
        var outcomes = 0
        for _ in 0..<2_000 {
            let length = Int.random(in: 0..<300, using: &generator)
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            bytes.withUnsafeBytes { buffer in
                StatsDDatagram.forEachLine(buffer) { line in
                    _ = StatsDParser().parseLine(line, values: &values)
                    outcomes += 1
                }
            }
        }
        #expect(outcomes > 0)
    }
}

@Suite struct StatsDDatagramTests {
    func lines(_ text: String) -> [String] {
        var out: [String] = []
        Array(text.utf8).withUnsafeBytes { buffer in
            StatsDDatagram.forEachLine(buffer) { out.append(String(decoding: $0, as: UTF8.self)) }
        }
        return out
    }

    @Test func splitsOnNewlines() {
        #expect(lines("a:1|c\nb:2|g") == ["a:1|c", "b:2|g"])
        #expect(lines("a:1|c\nb:2|g\n") == ["a:1|c", "b:2|g"])
        #expect(lines("a:1|c\r\nb:2|g\r\n") == ["a:1|c\r", "b:2|g\r"])
        #expect(lines("\n\n") == ["", ""])
        #expect(lines("") == [])
    }
}

@Suite struct NumberParsingTests {
    // Integers past 2^53 read as the nearest Double: 123456789012345678 as ...680, 2^64 − 1 as 2^64.
    @Test(arguments: [
        ("0", 0.0), ("-7", -7), ("123456789012345678", 123_456_789_012_345_680), ("0.1", 0.1),
        ("1e-9", 1e-9), ("-2.5e+3", -2500), ("18446744073709551615", 0x1p64),
    ])
    func parses(_ text: String, _ value: Double) {
        let parsed = Array(text.utf8).withUnsafeBytes { StatsDParser.parseNumber($0) }
        #expect(parsed?.value == value)
    }
}
