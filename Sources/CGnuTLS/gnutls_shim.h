#ifndef BEETLEWATCH_GNUTLS_SHIM_H
#define BEETLEWATCH_GNUTLS_SHIM_H

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <gnutls/gnutls.h>

// ---- Server side: checking what libmicrohttpd will be given ----

/// 0 when `cert_pem` parses and matches `key_pem`; otherwise a GnuTLS error code for `bw_tls_error`.
static inline int bw_tls_check_key_pair(const char *cert_pem, const char *key_pem) {
    gnutls_certificate_credentials_t credentials;
    int result = gnutls_certificate_allocate_credentials(&credentials);
    if (result < 0) {
        return result;
    }
    gnutls_datum_t cert = {(unsigned char *)cert_pem, (unsigned int)strlen(cert_pem)};
    gnutls_datum_t key = {(unsigned char *)key_pem, (unsigned int)strlen(key_pem)};
    result = gnutls_certificate_set_x509_key_mem(credentials, &cert, &key, GNUTLS_X509_FMT_PEM);
    gnutls_certificate_free_credentials(credentials);
    return result < 0 ? result : 0;
}

/// 0 when GnuTLS accepts the priority string; otherwise an error code.
static inline int bw_tls_check_priorities(const char *priorities) {
    gnutls_priority_t cache;
    int result = gnutls_priority_init(&cache, priorities, NULL);
    if (result == 0) {
        gnutls_priority_deinit(cache);
    }
    return result;
}

static inline const char *bw_tls_error(int code) {
    return gnutls_strerror(code);
}

// ---- Client side: TLS over a connected non-blocking socket, for https:// receivers ----

typedef struct bw_tls_client {
    gnutls_session_t session;
    gnutls_certificate_credentials_t credentials;
    /// GnuTLS keeps the pointer given to gnutls_session_set_verify_cert: the session owns this copy.
    char *server_name;
} bw_tls_client;

/// Sets up a client session on `fd`: SNI for `server_name` (when it is a name, not an address), the
/// certificate verified against `ca_file` or the system's CAs, for `server_name`, unless `verify` is 0.
/// Returns 0, or a GnuTLS error code; on error nothing needs freeing.
static inline int bw_tls_client_init(bw_tls_client *client, int fd, const char *server_name, int is_address,
                                     const char *ca_file, int verify) {
    int result = gnutls_certificate_allocate_credentials(&client->credentials);
    if (result < 0) {
        return result;
    }
    result = ca_file != NULL ? gnutls_certificate_set_x509_trust_file(client->credentials, ca_file, GNUTLS_X509_FMT_PEM)
                             : gnutls_certificate_set_x509_system_trust(client->credentials);
    if (result < 0 && verify) {
        gnutls_certificate_free_credentials(client->credentials);
        return result;
    }
    result = gnutls_init(&client->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK);
    if (result < 0) {
        gnutls_certificate_free_credentials(client->credentials);
        return result;
    }
    if ((result = gnutls_set_default_priority(client->session)) < 0 ||
        (result = gnutls_credentials_set(client->session, GNUTLS_CRD_CERTIFICATE, client->credentials)) < 0 ||
        (!is_address && (result = gnutls_server_name_set(client->session, GNUTLS_NAME_DNS, server_name, strlen(server_name))) < 0)) {
        gnutls_deinit(client->session);
        gnutls_certificate_free_credentials(client->credentials);
        return result;
    }
    client->server_name = strdup(server_name);
    if (verify) {
        gnutls_session_set_verify_cert(client->session, client->server_name, 0);
    }
    gnutls_transport_set_int(client->session, fd);
    return 0;
}

/// One step of the handshake: 0 when done, GNUTLS_E_AGAIN/GNUTLS_E_INTERRUPTED to call again
/// once the socket is ready (`bw_tls_client_wants_write` says for what), another negative code on failure.
static inline int bw_tls_client_handshake(bw_tls_client *client) {
    return gnutls_handshake(client->session);
}

/// After GNUTLS_E_AGAIN: 1 when GnuTLS waits to write, 0 to read.
static inline int bw_tls_client_wants_write(bw_tls_client *client) {
    return gnutls_record_get_direction(client->session);
}

static inline ssize_t bw_tls_client_send(bw_tls_client *client, const void *data, size_t length) {
    return gnutls_record_send(client->session, data, length);
}

/// Bytes read, 0 at the peer's close_notify, or a negative GnuTLS code (GNUTLS_E_AGAIN: not yet;
/// GNUTLS_E_PREMATURE_TERMINATION: the connection ended without close_notify).
static inline ssize_t bw_tls_client_recv(bw_tls_client *client, void *data, size_t length) {
    return gnutls_record_recv(client->session, data, length);
}

/// Why the certificate was refused, after a handshake failed with GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
/// malloc'd (free it), or NULL.
static inline char *bw_tls_client_verify_reason(bw_tls_client *client) {
    unsigned int status = gnutls_session_get_verify_cert_status(client->session);
    gnutls_datum_t out = {NULL, 0};
    if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) < 0) {
        return NULL;
    }
    char *text = strndup((const char *)out.data, out.size);
    gnutls_free(out.data);
    return text;
}

/// Sends close_notify if it can without waiting, and frees the session (not the socket).
static inline void bw_tls_client_free(bw_tls_client *client) {
    gnutls_bye(client->session, GNUTLS_SHUT_WR);
    gnutls_deinit(client->session);
    gnutls_certificate_free_credentials(client->credentials);
    free(client->server_name);
}

static inline int bw_tls_is_again(long code) {
    return code == GNUTLS_E_AGAIN || code == GNUTLS_E_INTERRUPTED;
}

static inline int bw_tls_is_verification_error(long code) {
    return code == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
}

#endif
