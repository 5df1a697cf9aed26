import Glibc

/// An operating-system call that failed, with what it was doing.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var code: Int32

    init(_ operation: String, code: Int32 = errno) {
        self.operation = operation
        self.code = code
    }

    public var description: String {
        "\(operation): \(String(cString: strerror(code)))"
    }
}
