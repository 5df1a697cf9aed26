import Config
import Probe
import TigerBeetle

/// The prober's edge: non-blocking TCP connections to replicas, host names resolved off the loop, and one wait for what
/// happens on them or for a wake-up.
/// Everything the prober does to the network goes through here: `EpollNetwork` in the agent (sockets under one epoll
/// set), a simulated network in `beetlewatch-sim` (the same `ProbeLoop`, `ProbeSession` and `CanarySession` on a
/// seeded network and clock). Used by the probe thread alone, but for `wake()`.
public protocol ProbeNetwork: AnyObject, Sendable {
    /// Starts a connection to `address`.
    func connect(to address: SocketAddress) -> ConnectStart
    /// What the loop waits for on `connection`: writable while its connect is under way or bytes wait to be written,
    /// readable once connected. Replaces what was asked before.
    func interest(_ connection: NetworkConnection, _ events: NetworkEvents)
    /// The outcome of a connect that was under way, once the connection is writable: 0, or the errno it failed with.
    func connectError(_ connection: NetworkConnection) -> Int32
    /// Writes what the connection takes of `bytes` now.
    func send(_ connection: NetworkConnection, _ bytes: [UInt8]) -> SendResult
    /// Reads what has arrived, into `buffer` from its start.
    func receive(_ connection: NetworkConnection, into buffer: inout [UInt8]) -> ReceiveResult
    /// Closes the connection (it leaves the wait set).
    func close(_ connection: NetworkConnection)
    /// What the network says of an open connection's path (the kernel's `TCP_INFO`), nil when it cannot say.
    func path(_ connection: NetworkConnection) -> PathReport?
    /// Waits at most `milliseconds` (-1: until something happens) for events on the connections' interests, or a
    /// `wake()`; `events` is filled with what happened. Returns whether it was woken.
    func wait(milliseconds: Int32, events: inout [(NetworkConnection, NetworkEvents)]) -> Bool
    /// Ends the current or next `wait` early; from any thread (a reload, a resolved name, a stop).
    func wake()
    /// Resolves a host name off the loop (numeric addresses never come here): the answer comes from `resolvedNames()`
    /// once ready, and ends the current `wait`; or never, when `request.deadline` passed before it was looked up.
    func resolve(_ request: NameRequest)
    /// The names resolved since the last call.
    func resolvedNames() -> [(id: UInt64, answer: Result<SocketAddress, NameFailure>)]
    /// Stops what the network runs beside the loop (the agent's resolver threads), once the loop has stopped.
    func shutdown()
}

/// A host name the prober wants resolved.
public struct NameRequest: Sendable {
    public var id: UInt64
    public var address: HostPort
    /// Past it, nobody waits for the answer.
    public var deadline: MonotonicInstant
}

/// Why a host name gave no address.
public enum NameFailure: Error, Equatable, Sendable, CustomStringConvertible {
    case unresolvable(host: String)
    /// This process is out of descriptors or memory (a lookup needs a socket too): says nothing about the replica.
    case noLocalResources(String)

    public var description: String {
        switch self {
        case .unresolvable(let host): "cannot resolve \(host)"
        case .noLocalResources(let reason): "beetlewatch itself: \(reason)"
        }
    }
}

/// A connection a `ProbeNetwork` opened: a file descriptor in the agent, a number in the simulator.
public struct NetworkConnection: Hashable, Sendable, CustomStringConvertible {
    public let id: Int32
    public init(_ id: Int32) { self.id = id }
    public var description: String { "connection \(id)" }
}

public enum ConnectStart: Equatable, Sendable {
    /// Connected at once (a local peer).
    case connected(NetworkConnection)
    /// Under way: the connection becomes writable when it is decided (`connectError` then says how).
    case inProgress(NetworkConnection)
    /// Failed before it started: the errno.
    case failed(errno: Int32)
}

public enum SendResult: Equatable, Sendable {
    case wrote(Int)
    /// The connection's buffer is full: wait until it is writable.
    case wouldBlock
    /// The connection broke; why.
    case failed(String)
}

public enum ReceiveResult: Equatable, Sendable {
    case bytes(Int)
    /// Nothing has arrived.
    case wouldBlock
    /// The peer closed it ("end of file") or it broke (why).
    case closed(String)
}

public struct NetworkEvents: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let readable = NetworkEvents(rawValue: 1)
    public static let writable = NetworkEvents(rawValue: 2)
    /// An error or hang-up: a read tells which.
    public static let broken = NetworkEvents(rawValue: 4)
}
