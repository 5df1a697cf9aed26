import Glibc

/// The one thread a value is confined to: the first that uses it. Every later use asserts it is the same thread (debug
/// builds and the simulator), so state that is neither locked nor atomic is read and written by one thread only.
struct ThreadConfinement {
    private var owner: pthread_t?

    /// Asserts that the calling thread is the owner (the first caller becomes it).
    mutating func check(_ what: @autoclosure () -> String) {
        let caller = pthread_self()
        guard let owner else {
            self.owner = caller
            return
        }
        assert(pthread_equal(owner, caller) != 0, "\(what()) is confined to one thread")
    }
}
