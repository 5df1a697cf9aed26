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
        var start = 0
        var i = 0
        while i < count {
            if datagram[i] == UInt8(ascii: "\n") {
                try body(UnsafeRawBufferPointer(rebasing: datagram[start..<i]))
                start = i + 1
            }
            i += 1
        }
        if start < count {
            try body(UnsafeRawBufferPointer(rebasing: datagram[start..<count]))
        }
    }
}
