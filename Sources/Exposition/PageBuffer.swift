import MetricStore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A page's bytes in one `malloc`'d buffer, written once and handed whole to the HTTP server (which frees it when the
/// page is sent): a page of tens of megabytes is neither copied nor its pages touched twice. Confined to the thread
/// that renders it until `take()` hands the bytes on.
public final class PageBuffer: ByteSink {
    // Unchecked: a class's stored properties are otherwise checked for exclusive access at run time on every append
    // (`swift_beginAccess`: 45% of a 100k-series page's rendering). One thread writes a page (see above).
    @exclusivity(unchecked) private var start: UnsafeMutableRawPointer
    @exclusivity(unchecked) public private(set) var count = 0
    @exclusivity(unchecked) private var capacity: Int

    public init(capacity: Int) {
        self.capacity = max(capacity, 4096)
        guard let start = malloc(self.capacity) else { fatalError("out of memory for a page of \(self.capacity) bytes") }
        self.start = start
        Self.adviseHugePages(start, self.capacity)
    }

    deinit {
        free(start)
    }

    @inline(__always)
    public func append(_ byte: UInt8) {
        if count == capacity { grow(to: count + 1) }
        start.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    @inline(__always)
    public func append(contentsOf bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress else { return }
        if count + bytes.count > capacity { grow(to: count + bytes.count) }
        (start + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }

    public func append(_ text: String) {
        var text = text
        text.withUTF8 { append(contentsOf: UnsafeRawBufferPointer($0)) }
    }

    /// The bytes written, copied out (tests and small pages).
    public var bytes: [UInt8] {
        Array(UnsafeRawBufferPointer(start: start, count: count))
    }

    /// Hands the buffer on: the caller `free`s it. The page is empty afterwards.
    public func take() -> (bytes: UnsafeMutableRawPointer, count: Int) {
        let taken = (start, count)
        capacity = 4096
        guard let fresh = malloc(capacity) else { fatalError("out of memory for a page of 4096 bytes") }
        start = fresh
        count = 0
        return taken
    }

    private func grow(to needed: Int) {
        var size = capacity
        while size < needed { size = size > Int.max / 2 ? needed : size * 2 }
        guard let grown = realloc(start, size) else { fatalError("out of memory for a page of \(size) bytes") }
        start = grown
        capacity = size
        Self.adviseHugePages(start, capacity)
    }

    /// A large page on huge pages where the kernel offers them on request (`madvise` mode): a few faults, not one per
    /// 4 KiB (a 23 MB page took ~5,700). Advice only: nothing depends on it being taken.
    private static func adviseHugePages(_ start: UnsafeMutableRawPointer, _ size: Int) {
        let huge = 2 << 20
        guard size >= 4 * huge else { return }
        let aligned = (Int(bitPattern: start) + huge - 1) & ~(huge - 1)
        let end = (Int(bitPattern: start) + size) & ~(huge - 1)
        guard end > aligned, let from = UnsafeMutableRawPointer(bitPattern: aligned) else { return }
        _ = madvise(from, end - aligned, MADV_HUGEPAGE)
    }
}
