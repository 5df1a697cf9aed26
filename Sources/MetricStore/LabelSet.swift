import StatsD

/// A series' labels: sorted by name, rendered once as `{name="value",...}`.
public struct LabelSet: Sendable, Hashable {
    public private(set) var pairs: [(name: String, value: String)]

    public static func == (a: LabelSet, b: LabelSet) -> Bool {
        a.pairs.elementsEqual(b.pairs) { $0.name == $1.name && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        for pair in pairs {
            hasher.combine(pair.name)
            hasher.combine(pair.value)
        }
    }

    /// Labels from name/value pairs: names as given, sorted; on a repeated
    /// name the last value wins; empty values are dropped (in Prometheus an
    /// empty label is the same as no label).
    public init(_ pairs: [(name: String, value: String)]) {
        var byName: [String: String] = [:]
        for pair in pairs { byName[pair.name] = pair.value }
        self.pairs = byName.filter { !$0.value.isEmpty }.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
    }

    /// Limits on DogStatsD tags, against cardinality and memory attacks.
    public struct Limits: Sendable {
        public var maxTags: Int
        public var maxTagLength: Int
        public init(maxTags: Int = 64, maxTagLength: Int = 1024) {
            self.maxTags = maxTags
            self.maxTagLength = maxTagLength
        }
    }

    /// Labels from a DogStatsD tag list (`k:v,k2:v2`). Keys are sanitised as
    /// statsd_exporter does; a tag without `:` or with an empty key is dropped
    /// (as statsd_exporter does) and counted in `dropped`.
    public static func parse(dogStatsDTags tags: UnsafeRawBufferPointer, limits: Limits) -> Result<
        (labels: LabelSet, dropped: Int), ParseError
    > {
        if tags.isEmpty { return .success((LabelSet([]), 0)) }
        var pairs: [(name: String, value: String)] = []
        var dropped = 0
        var start = 0
        var tagCount = 0
        while start <= tags.count {
            let end = StatsDParser.index(of: UInt8(ascii: ","), in: tags, from: start)
            tagCount += 1
            if tagCount > limits.maxTags || end - start > limits.maxTagLength { return .failure(.tooManyTags) }
            let tag = UnsafeRawBufferPointer(rebasing: tags[start..<end])
            let colon = StatsDParser.index(of: UInt8(ascii: ":"), in: tag, from: 0)
            if colon == tag.count || colon == 0 {
                if !tag.isEmpty || end < tags.count { dropped += 1 }
            } else {
                let key = String(decoding: tag[0..<colon], as: UTF8.self)
                let value = String(decoding: tag[(colon + 1)...], as: UTF8.self)
                pairs.append((PrometheusName.escape(key), value))
            }
            start = end + 1
        }
        return .success((LabelSet(pairs), dropped))
    }

    /// These labels without the names Prometheus keeps for itself: `__*` names are dropped (a
    /// `__name__` label makes every scrape fail), and on a summary `quantile` becomes
    /// `exported_quantile` (as Prometheus renames a clashing target label). Returns how many changed.
    public func withoutReservedNames(for type: FamilyType) -> (labels: LabelSet, changed: Int) {
        guard pairs.contains(where: { $0.name.hasPrefix("__") || (type == .summary && $0.name == "quantile") }) else {
            return (self, 0)
        }
        var changed = 0
        var kept: [(name: String, value: String)] = []
        for pair in pairs {
            if pair.name.hasPrefix("__") {
                changed += 1
            } else if type == .summary && pair.name == "quantile" {
                changed += 1
                kept.append((name: "exported_quantile", value: pair.value))
            } else {
                kept.append(pair)
            }
        }
        return (LabelSet(kept), changed)
    }

    /// The value of the label `name`, if present.
    public func value(of name: String) -> String? {
        pairs.first { $0.name == name }?.value
    }

    /// Each pair as the text format writes it (`name="escaped value"`), in name order: what the store interns.
    var renderedPairs: [[UInt8]] {
        pairs.map { pair in Array(pair.name.utf8) + Array("=\"".utf8) + Array(Self.escapeValue(pair.value).utf8) + [UInt8(ascii: "\"")] }
    }

    /// `{a="1",b="2"}`, or the empty string for no labels.
    public var rendered: String {
        if pairs.isEmpty { return "" }
        var out = "{"
        for (i, pair) in pairs.enumerated() {
            if i > 0 { out += "," }
            out += pair.name
            out += "=\""
            out += Self.escapeValue(pair.value)
            out += "\""
        }
        return out + "}"
    }

    /// Escapes a label value for the text format: `\` `"` and newline.
    public static func escapeValue(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") }) else {
            return value
        }
        var out = ""
        for ch in value.unicodeScalars {
            switch ch {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }
}
