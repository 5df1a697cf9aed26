import Synchronization

/// A value behind a mutex that closures can share (a `Mutex` itself cannot be captured).
final class SharedValue<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) {
        mutex = Mutex(value)
    }

    var value: Value { mutex.withLock { $0 } }

    func update<Result>(_ body: (inout sending Value) -> sending Result) -> sending Result {
        mutex.withLock { body(&$0) }
    }
}
