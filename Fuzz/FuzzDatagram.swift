// libFuzzer target: any bytes, as one datagram, through the StatsD parser and the metric store
// (both naming modes), then a render of the page. Built by Fuzz/run with -sanitize=fuzzer,address.

nonisolated(unsafe) var tigerbeetle = MetricStore(options: .init(mode: .tigerbeetle, ttl: 60_000_000_000, maxSeries: 10_000))
nonisolated(unsafe) var statsdExporter = MetricStore(options: .init(mode: .statsdExporter, ttl: 0, maxSeries: 10_000))
nonisolated(unsafe) var clock: Int64 = 0

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let datagram = UnsafeRawBufferPointer(start: data, count: size)
    clock += 1_000_000_000
    tigerbeetle.ingest(datagram: datagram, now: clock)
    statsdExporter.ingest(datagram: datagram, now: clock)
    if clock % 50_000_000_000 == 0 {
        tigerbeetle.expire(now: clock)
        // Every family and series stays readable.
        var count = 0
        tigerbeetle.forEachFamily(now: clock) { family in family.forEachSeries { _, _, _ in count += 1 } }
        precondition(count <= tigerbeetle.seriesCount)
    }
    precondition(tigerbeetle.seriesCount <= 10_000 && statsdExporter.seriesCount <= 10_000)
    return 0
}
