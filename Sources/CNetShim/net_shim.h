#ifndef BEETLEWATCH_NET_SHIM_H
#define BEETLEWATCH_NET_SHIM_H

// recvmmsg/sendmmsg are GNU extensions that Swift's Glibc module does not
// expose: call the system calls directly with a layout-compatible header.
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

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

#endif
