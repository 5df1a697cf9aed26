/// A strict reader of the Prometheus text format (0.0.4), for the fuzzer: what promtool and Prometheus
/// would refuse, and what beetlewatch promises beyond them (no NaN or Inf in a counter or summary, but for an empty
/// window's quantiles, NaN).
enum ExpositionValidator {
    /// The first problem in `page`, or nil when it is valid.
    static func problem(in bytes: [UInt8]) -> String? {
        guard let page = String(validating: bytes, as: UTF8.self) else { return "not UTF-8" }
        guard page.isEmpty || page.hasSuffix("\n") else { return "does not end with a newline" }
        var types: [String: String] = [:]
        var helps: Set<String> = []
        var finished: Set<String> = []
        var current = ""
        var series: Set<String> = []
        for lineBytes in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast() {
            let line = Substring(String(decoding: lineBytes, as: UTF8.self))
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(parts[0])
                guard isMetricName(name) else { return "bad family name: \(line)" }
                if name != current {
                    if finished.contains(name) { return "family \(name) is not contiguous" }
                    if !current.isEmpty { finished.insert(current) }
                    current = name
                }
                if line.hasPrefix("# HELP ") {
                    guard helps.insert(name).inserted else { return "second HELP for \(name)" }
                } else {
                    let type = parts.count > 1 ? String(parts[1]) : ""
                    guard ["counter", "gauge", "summary", "histogram", "untyped"].contains(type) else { return "bad TYPE: \(line)" }
                    guard types[name] == nil else { return "second TYPE for \(name)" }
                    types[name] = type
                }
                continue
            }
            guard !line.hasPrefix("#") else { continue }
            guard let sample = parseSample(line) else { return "unparseable sample: \(line.prefix(200))" }
            let family = familyName(of: sample.name, types: types)
            guard family == current else { return "sample \(sample.name) outside its family \(current)" }
            guard series.insert(sample.name + "{" + sample.labels.sorted().joined(separator: ",") + "}").inserted else {
                return "duplicate series: \(line.prefix(200))"
            }
            let type = types[family] ?? "untyped"
            if type == "summary" && sample.name == family && !sample.labelNames.contains("quantile") {
                return "summary sample without quantile"
            }
            if type == "summary" && sample.name != family && sample.labelNames.contains("quantile") { return "quantile on \(sample.name)" }
            // A summary's quantile is NaN when its window holds no observation (as client_golang writes it); never ±Inf.
            let emptyQuantile = type == "summary" && sample.name == family && sample.value.isNaN
            if (type == "counter" || type == "summary") && !sample.value.isFinite && !emptyQuantile {
                return "non-finite \(type) value: \(line.prefix(200))"
            }
            if type == "counter" && sample.value < 0 { return "negative counter: \(line.prefix(200))" }
        }
        return nil
    }

    static func isMetricName(_ name: Substring) -> Bool { isName(name, colons: true) }
    static func isMetricName(_ name: String) -> Bool { isName(Substring(name), colons: true) }

    static func isName(_ name: Substring, colons: Bool) -> Bool {
        guard let first = name.unicodeScalars.first else { return false }
        func letter(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "_" || (colons && c == ":") }
        return letter(first) && name.unicodeScalars.allSatisfy { letter($0) || ("0"..."9").contains($0) }
    }

    static func familyName(of sample: String, types: [String: String]) -> String {
        for suffix in ["_sum", "_count", "_bucket"] where sample.hasSuffix(suffix) {
            let base = String(sample.dropLast(suffix.count))
            if let type = types[base], type == "summary" || type == "histogram" { return base }
        }
        return sample
    }

    struct Sample {
        var name: String
        var labels: [String]
        var labelNames: Set<String>
        var value: Double
    }

    /// `name{a="x",b="y"} value`, with the text format's escapes in label values; read as bytes.
    static func parseSample(_ line: Substring) -> Sample? {
        let bytes = Array(line.utf8)
        var i = 0
        while i < bytes.count && bytes[i] != UInt8(ascii: "{") && bytes[i] != UInt8(ascii: " ") { i += 1 }
        let name = String(decoding: bytes[0..<i], as: UTF8.self)
        guard isMetricName(name) else { return nil }
        var labels: [String] = []
        var names: Set<String> = []
        if i < bytes.count && bytes[i] == UInt8(ascii: "{") {
            i += 1
            while i < bytes.count && bytes[i] != UInt8(ascii: "}") {
                let start = i
                while i < bytes.count && bytes[i] != UInt8(ascii: "=") { i += 1 }
                let labelName = String(decoding: bytes[start..<i], as: UTF8.self)
                guard isName(Substring(labelName), colons: false), !labelName.hasPrefix("__"), names.insert(labelName).inserted else {
                    return nil
                }
                i += 1
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return nil }
                i += 1
                let valueStart = i
                while i < bytes.count && bytes[i] != UInt8(ascii: "\"") {
                    if bytes[i] == UInt8(ascii: "\\") {
                        i += 1
                        guard i < bytes.count, [UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "n")].contains(bytes[i]) else {
                            return nil
                        }
                    }
                    i += 1
                }
                guard i < bytes.count else { return nil }
                labels.append(labelName + "=" + String(decoding: bytes[valueStart..<i], as: UTF8.self))
                i += 1
                if i < bytes.count && bytes[i] == UInt8(ascii: ",") {
                    i += 1
                } else {
                    guard i < bytes.count, bytes[i] == UInt8(ascii: "}") else { return nil }
                }
            }
            guard i < bytes.count else { return nil }
            i += 1
        }
        guard i < bytes.count, bytes[i] == UInt8(ascii: " ") else { return nil }
        let text = String(decoding: bytes[(i + 1)...], as: UTF8.self)
        let value: Double
        switch text {
        case "+Inf": value = .infinity
        case "-Inf": value = -.infinity
        case "NaN": value = .nan
        default:
            guard let parsed = Double(text), !text.contains(where: { $0 == "i" || $0 == "n" || $0 == "I" || $0 == "N" }) else { return nil }
            value = parsed
        }
        return Sample(name: name, labels: labels, labelNames: names, value: value)
    }
}
