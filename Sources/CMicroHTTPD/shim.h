#ifndef BEETLEWATCH_MICROHTTPD_SHIM_H
#define BEETLEWATCH_MICROHTTPD_SHIM_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netdb.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <microhttpd.h>

// libmicrohttpd 0.9.71 changed the handler result from int to enum MHD_Result.
#if MHD_VERSION >= 0x00097002
typedef enum MHD_Result bw_mhd_result;
#else
typedef int bw_mhd_result;
#endif

/// The response the Swift handler fills in. `body` is malloc'd by Swift and freed by libmicrohttpd.
typedef struct bw_http_response {
    unsigned int status;
    const char *content_type;
    char *body;
    size_t body_length;
    /// Optional `Allow` header (for 405 answers).
    const char *allow;
    /// Optional `WWW-Authenticate` header (for 401 answers).
    const char *www_authenticate;
} bw_http_response;

/// Called once per request, after its body (if any) has been read; on libmicrohttpd's threads.
typedef void (*bw_http_handler)(void *context, struct MHD_Connection *connection,
                                const char *method, const char *url, bw_http_response *response);

typedef struct bw_http_server {
    bw_http_handler handler;
    void *context;
    /// Counters kept on libmicrohttpd's threads (read with bw_http_load).
    uint64_t connections_opened;
    uint64_t connections_closed;
    /// Requests answered 400 for ambiguous framing (several Content-Length headers, or one with Transfer-Encoding).
    uint64_t framing_rejected;
} bw_http_server;

static inline uint64_t bw_http_load(const uint64_t *counter) {
    return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

static inline void bw_notify_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                                        enum MHD_ConnectionNotificationCode code) {
    (void)connection;
    (void)socket_context;
    bw_http_server *server = (bw_http_server *)cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        __atomic_fetch_add(&server->connections_opened, 1, __ATOMIC_RELAXED);
    } else {
        __atomic_fetch_add(&server->connections_closed, 1, __ATOMIC_RELAXED);
    }
}

typedef struct bw_framing {
    unsigned int content_length;
    unsigned int transfer_encoding;
} bw_framing;

static inline bw_mhd_result bw_count_framing(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    (void)kind;
    (void)value;
    bw_framing *framing = (bw_framing *)cls;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) framing->content_length++;
    if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) framing->transfer_encoding++;
    return MHD_YES;
}

/// Whether the request's length is ambiguous, as a request smuggler would make it (RFC 9112 6.3).
static inline int bw_ambiguous_framing(struct MHD_Connection *connection) {
    bw_framing framing = {0, 0};
    MHD_get_connection_values(connection, MHD_HEADER_KIND, &bw_count_framing, &framing);
    return framing.content_length > 1 || framing.transfer_encoding > 1 || (framing.content_length > 0 && framing.transfer_encoding > 0);
}

static inline bw_mhd_result bw_access_handler(void *cls, struct MHD_Connection *connection,
                                              const char *url, const char *method, const char *version,
                                              const char *upload_data, size_t *upload_data_size,
                                              void **req_cls) {
    (void)version;
    (void)upload_data;
    bw_http_server *server = (bw_http_server *)cls;
    if (*req_cls == NULL) {
        // First call: headers only. An ambiguous length is refused before any body is read;
        // otherwise come back when the body (if any) has arrived.
        if (bw_ambiguous_framing(connection)) {
            __atomic_fetch_add(&server->framing_rejected, 1, __ATOMIC_RELAXED);
            static const char text[] = "Bad Request: ambiguous Content-Length / Transfer-Encoding\n";
            struct MHD_Response *bad = MHD_create_response_from_buffer(sizeof(text) - 1, (void *)text, MHD_RESPMEM_PERSISTENT);
            if (bad == NULL) return MHD_NO;
            MHD_add_response_header(bad, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
            MHD_add_response_header(bad, MHD_HTTP_HEADER_CONNECTION, "close");
            bw_mhd_result queued = MHD_queue_response(connection, MHD_HTTP_BAD_REQUEST, bad);
            MHD_destroy_response(bad);
            return queued;
        }
        *req_cls = (void *)server;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        // No endpoint reads a request body: discard it.
        *upload_data_size = 0;
        return MHD_YES;
    }
    bw_http_response out = {500, "text/plain; charset=utf-8", NULL, 0, NULL, NULL};
    server->handler(server->context, connection, method, url, &out);
    struct MHD_Response *response;
    if (out.body != NULL) {
        response = MHD_create_response_from_buffer_with_free_callback(out.body_length, out.body, &free);
    } else {
        response = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    if (response == NULL) {
        free(out.body);
        return MHD_NO;
    }
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, out.content_type);
    if (out.allow != NULL) {
        MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, out.allow);
    }
    if (out.www_authenticate != NULL) {
        MHD_add_response_header(response, MHD_HTTP_HEADER_WWW_AUTHENTICATE, out.www_authenticate);
    }
    bw_mhd_result result = MHD_queue_response(connection, out.status, response);
    MHD_destroy_response(response);
    return result;
}

/// TLS material for a daemon: PEM texts and a GnuTLS priority string; kept alive while the daemon runs.
typedef struct bw_http_tls {
    const char *key_pem;
    const char *cert_pem;
    const char *priorities;
} bw_http_tls;

/// Starts a daemon with its own polling threads, bound to `address`, or serving the already
/// listening socket `listen_fd` when it is not -1 (to swap daemons without closing the port).
/// With `tls`, the daemon speaks HTTPS only.
static inline struct MHD_Daemon *bw_http_start(bw_http_server *server, const struct sockaddr *address, int listen_fd,
                                               unsigned int extra_flags, unsigned int thread_pool_size,
                                               unsigned int connection_limit, unsigned int per_ip_limit,
                                               unsigned int timeout_seconds, const bw_http_tls *tls) {
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_EPOLL_INTERNAL_THREAD | extra_flags;
    struct MHD_OptionItem options[10];
    int n = 0;
    if (listen_fd >= 0) {
        options[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, listen_fd, NULL};
    } else {
        options[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, (void *)address};
    }
    options[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, thread_pool_size, NULL};
    options[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, connection_limit, NULL};
    options[n++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip_limit, NULL};
    options[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, timeout_seconds, NULL};
    options[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)&bw_notify_connection, server};
    if (tls != NULL) {
        flags |= MHD_USE_TLS;
        options[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)tls->key_pem};
        options[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)tls->cert_pem};
        options[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)tls->priorities};
    }
    options[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    return MHD_start_daemon(flags, 0, NULL, NULL, &bw_access_handler, server, MHD_OPTION_ARRAY, options, MHD_OPTION_END);
}

/// Stops accepting on the daemon's socket and hands it over (the caller closes it, or gives it to a new daemon,
/// after stopping this one).
static inline int bw_http_quiesce(struct MHD_Daemon *daemon) {
    return (int)MHD_quiesce_daemon(daemon);
}

/// The daemon's listening socket (to learn the port it bound).
static inline int bw_http_listen_fd(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_LISTEN_FD);
    return info == NULL ? -1 : info->listen_fd;
}

/// Connections the daemon holds open (requests under way, idle keep-alive).
static inline unsigned int bw_http_connections(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return info == NULL ? 0 : info->num_connections;
}

/// A request header, or NULL.
static inline const char *bw_http_header(struct MHD_Connection *connection, const char *name) {
    return MHD_lookup_connection_value(connection, MHD_HEADER_KIND, name);
}

/// The client's address as text (IPv4 or IPv6, no port) into `out`; empty when unknown.
static inline void bw_http_client_address(struct MHD_Connection *connection, char *out, size_t size) {
    out[0] = 0;
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info == NULL || info->client_addr == NULL) return;
    socklen_t length = info->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (getnameinfo(info->client_addr, length, out, size, NULL, 0, NI_NUMERICHOST) != 0) out[0] = 0;
}

/// A query-string argument, or NULL.
static inline const char *bw_http_query(struct MHD_Connection *connection, const char *name) {
    return MHD_lookup_connection_value(connection, MHD_GET_ARGUMENT_KIND, name);
}

#endif
