/// Why a reload was refused (the configuration in force stays): what `POST /-/reload` answers with and the log says.
public struct ReloadRefusal: Error, CustomStringConvertible, Sendable, Equatable {
    public var reason: String

    public init(reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}
