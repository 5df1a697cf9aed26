/// One series' labels as a page reads them: its pair numbers and the pairs' bytes, borrowed from the store for the
/// length of one `FamilyView.forEachSeries` call (they must not be kept past it).
public struct SeriesLabels {
    let numbers: UnsafeBufferPointer<UInt32>
    let bytes: InternedBytes

    public var isEmpty: Bool { numbers.isEmpty }

    /// Appends `{a="1",b="2"}` (nothing for no labels), with `extra` (a rendered pair, e.g. `quantile="0.5"`) last.
    @inline(__always)
    public func write<Sink: ByteSink>(
        into sink: inout Sink, adding extra: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)
    ) {
        if numbers.isEmpty && extra.isEmpty { return }
        sink.append(UInt8(ascii: "{"))
        var first = true
        for p in numbers {
            if !first { sink.append(UInt8(ascii: ",")) }
            first = false
            sink.append(contentsOf: bytes[p])
        }
        if !extra.isEmpty {
            if !first { sink.append(UInt8(ascii: ",")) }
            sink.append(contentsOf: extra)
        }
        sink.append(UInt8(ascii: "}"))
    }

    /// The labels as text (`{a="1",b="2"}`), for tests and the few readers that want a string.
    public var rendered: String {
        var out: [UInt8] = []
        write(into: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
