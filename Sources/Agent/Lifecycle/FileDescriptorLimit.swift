import Glibc

/// The process's open-file limit: raised to the hard limit at start (as Go's runtime and systemd's
/// services do), so that HTTP connections and probes do not run out of descriptors.
enum FileDescriptorLimit {
    /// Raises the soft limit towards the hard one; returns the soft limit in force afterwards.
    static func raise() -> UInt64 {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { return UInt64(raised.rlim_max) }
        }
        return UInt64(limit.rlim_cur)
    }

    /// Descriptors the agent may need at once: every HTTP connection, a probe and a spare per replica,
    /// and a margin for the sockets, receivers and files of its own.
    static func needed(httpConnections: UInt32, replicas: Int) -> UInt64 {
        UInt64(httpConnections) + 2 * UInt64(max(0, replicas)) + 64
    }
}
