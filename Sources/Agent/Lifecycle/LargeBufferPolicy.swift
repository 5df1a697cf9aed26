import CNetShim

/// How glibc's allocator treats the agent's large transient buffers: a `/metrics` page (tens of MB for a fleet), its
/// copy handed to libmicrohttpd, a status document. By default glibc raises its mmap threshold each time such a
/// buffer is freed (up to 32 MiB), after which they come from the heap and stay resident when freed: a fleet of 600
/// replicas went from 62 to 124 MiB after its first scrapes. A fixed 1 MiB threshold keeps every large buffer in
/// its own mapping, returned to the system when freed, at the cost of its page faults (about 3,000 for a 13 MB page).
enum LargeBufferPolicy {
    static let mmapThreshold: Int32 = 1 << 20

    /// Applies the policy to the process (once; harmless to repeat).
    static func apply() {
        _ = bw_set_mmap_threshold(mmapThreshold)
    }
}
