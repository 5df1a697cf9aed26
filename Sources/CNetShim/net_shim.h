#ifndef BEETLEWATCH_NET_SHIM_H
#define BEETLEWATCH_NET_SHIM_H

// recvmmsg/sendmmsg are GNU extensions that Swift's Glibc module does not
// expose: call the system calls directly with a layout-compatible header.
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/epoll.h>
#include <linux/sock_diag.h>
#include <malloc.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif

typedef struct bw_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
} bw_mmsghdr;

#define BW_MSG_WAITFORONE 0x10000

// Socket types as plain ints: glibc's enum __socket_type is seen through several
// Clang modules here, which makes Swift's release (whole-module) build lose them.
static const int BW_SOCK_STREAM = SOCK_STREAM;
static const int BW_SOCK_DGRAM = SOCK_DGRAM;
static const int BW_SOCK_CLOEXEC = SOCK_CLOEXEC;
static const int BW_SOCK_NONBLOCK = SOCK_NONBLOCK;

static inline int bw_recvmmsg(int fd, bw_mmsghdr *messages, unsigned int count, int flags) {
    return (int)syscall(SYS_recvmmsg, fd, messages, count, flags, (void *)0);
}

static inline int bw_sendmmsg(int fd, bw_mmsghdr *messages, unsigned int count, int flags) {
    return (int)syscall(SYS_sendmmsg, fd, messages, count, flags);
}

// epoll with the packed struct epoll_event (x86-64) kept on this side: a file descriptor in, ready
// descriptors and their events out as plain arrays.
static inline int bw_epoll_set(int epfd, int op, int fd, unsigned int events) {
    struct epoll_event event = { .events = events, .data = { .fd = fd } };
    return epoll_ctl(epfd, op, fd, &event);
}

static inline int bw_epoll_wait(int epfd, int *fds, unsigned int *events, int max, int timeout_ms) {
    struct epoll_event ready[256];
    if (max > 256) max = 256;
    int n = epoll_wait(epfd, ready, max, timeout_ms);
    for (int i = 0; i < n; i++) {
        fds[i] = ready[i].data.fd;
        events[i] = ready[i].events;
    }
    return n;
}

static const int BW_EPOLL_CTL_ADD = EPOLL_CTL_ADD;
static const int BW_EPOLL_CTL_MOD = EPOLL_CTL_MOD;
static const int BW_EPOLL_CTL_DEL = EPOLL_CTL_DEL;
static const unsigned int BW_EPOLLIN = EPOLLIN;
static const unsigned int BW_EPOLLOUT = EPOLLOUT;
static const unsigned int BW_EPOLLERR = EPOLLERR;
static const unsigned int BW_EPOLLHUP = EPOLLHUP;

// Names the calling thread as ps, top and /proc/<pid>/task/*/comm show it (at most 15 bytes);
// prctl is variadic, which Swift cannot call.
static inline int bw_set_thread_name(const char *name) {
    return prctl(PR_SET_NAME, (unsigned long)name, 0UL, 0UL, 0UL);
}

// The kernel's count of datagrams dropped for this socket (full receive buffer, bad checksum, ...), read
// straight from the socket (SO_MEMINFO, Linux 4.12+): -1 when the kernel does not report it.
static inline int bw_socket_drops(int fd, unsigned long long *drops) {
    unsigned int meminfo[SK_MEMINFO_VARS] = { 0 };
    socklen_t length = sizeof(meminfo);
    if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, meminfo, &length) != 0) return -1;
    if (length < (SK_MEMINFO_DROPS + 1) * sizeof(unsigned int)) return -1;
    *drops = meminfo[SK_MEMINFO_DROPS];
    return 0;
}

// Bytes a TCP socket has queued and the peer's host has not acknowledged: sent and in flight, or not sent yet (a path
// that drops them, as a local firewall does, can keep them from being sent at all). ioctl is variadic, which Swift
// cannot call. -1 on error.
static inline int bw_tcp_unacknowledged_bytes(int fd) {
    int queued = 0;
    if (ioctl(fd, SIOCOUTQ, &queued) != 0) return -1;
    return queued;
}

// One TCP_INFO read: glibc's struct tcp_info (a prefix of the kernel's) into *info, and the segments the socket
// received out of order into *out_of_order (Linux's tcpi_rcv_ooopack, since 5.4, past the end of glibc's struct, read
// at its offset in the kernel's, checked against linux/tcp.h): data that came while an earlier segment was missing,
// the peer's answers held behind a loss; 0 when the kernel does not report it. 0, or -1 on error.
static inline int bw_tcp_info(int fd, struct tcp_info *info, unsigned int *out_of_order) {
    unsigned char raw[256];
    socklen_t length = sizeof(raw);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, raw, &length) != 0) return -1;
    __builtin_memset(info, 0, sizeof(*info));
    __builtin_memcpy(info, raw, length < sizeof(*info) ? length : sizeof(*info));
    const size_t offset = 224;  // offsetof(struct tcp_info, tcpi_rcv_ooopack) in linux/tcp.h
    *out_of_order = 0;
    if (length >= offset + sizeof(unsigned int)) __builtin_memcpy(out_of_order, raw + offset, sizeof(unsigned int));
    return 0;
}

// glibc's mmap threshold, fixed (see LargeBufferPolicy): malloc.h is not in Swift's Glibc module.
static inline int bw_set_mmap_threshold(int bytes) { return mallopt(M_MMAP_THRESHOLD, bytes); }

#endif
