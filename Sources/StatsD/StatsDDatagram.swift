#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Splits a datagram into lines without copying.
public enum StatsDDatagram {
    /// Calls `body` with each `\n`-separated line of `datagram` (the `\n` excluded;
    /// a trailing newline yields no extra line).
    @inlinable
    public static func forEachLine(
        _ datagram: UnsafeRawBufferPointer,
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        let count = datagram.count
        guard let base = datagram.baseAddress else { return }
        var start = 0
        while start < count {
            // memchr finds the newline far faster than a byte loop.
            let end = memchr(base + start, 0x0A, count - start).map { base.distance(to: UnsafeRawPointer($0)) } ?? count
            try body(UnsafeRawBufferPointer(rebasing: datagram[start..<end]))
            start = end + 1
        }
    }
}
