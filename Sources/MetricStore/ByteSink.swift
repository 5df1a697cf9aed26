/// Where rendered bytes go: a page buffer, or an array (tests, small pages). Generic, not a closure, so a page's hot
/// loop retains nothing per sample.
public protocol ByteSink {
    mutating func append(contentsOf bytes: UnsafeRawBufferPointer)
    mutating func append(_ byte: UInt8)
}

extension Array: ByteSink where Element == UInt8 {}
