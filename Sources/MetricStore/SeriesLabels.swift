/// One series' labels as a page reads them: its pair numbers and the pairs' bytes, borrowed from the store for the
/// length of one `FamilyView.forEachSeries` call (they must not be kept past it).
public struct SeriesLabels {
    let numbers: UnsafeBufferPointer<UInt32>
    let bytes: InternedBytes

    public var isEmpty: Bool { numbers.isEmpty }

    /// Hands `emit` the text `{a="1",b="2"}` piece by piece (nothing for no labels), with `extra` (a rendered pair,
    /// e.g. `quantile="0.5"`) last.
    @inline(__always)
    public func write(adding extra: [UInt8] = [], _ emit: (UnsafeRawBufferPointer) -> Void) {
        if numbers.isEmpty && extra.isEmpty { return }
        withUnsafeBytes(of: (UInt8(ascii: "{"), UInt8(ascii: ","), UInt8(ascii: "}"))) { marks in
            let open = UnsafeRawBufferPointer(rebasing: marks[0..<1])
            let comma = UnsafeRawBufferPointer(rebasing: marks[1..<2])
            let close = UnsafeRawBufferPointer(rebasing: marks[2..<3])
            emit(open)
            var first = true
            for p in numbers {
                if !first { emit(comma) }
                first = false
                emit(bytes[p])
            }
            if !extra.isEmpty {
                if !first { emit(comma) }
                extra.withUnsafeBytes { emit($0) }
            }
            emit(close)
        }
    }

    /// Appends the text of `write` to `out`.
    public func write(into out: inout [UInt8], adding extra: [UInt8] = []) {
        write(adding: extra) { out.append(contentsOf: $0) }
    }

    /// The labels as text (`{a="1",b="2"}`), for tests and the few readers that want a string.
    public var rendered: String {
        var out: [UInt8] = []
        write(into: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
