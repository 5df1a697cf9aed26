#ifndef BEETLEWATCH_CRYPT_SHIM_H
#define BEETLEWATCH_CRYPT_SHIM_H

#include <crypt.h>
#include <stdlib.h>
#include <string.h>

/// 1 when `password` hashes to `hash` (bcrypt `$2a$`/`$2b$`/`$2y$`, or any scheme libxcrypt knows),
/// 0 otherwise. Thread-safe: the work area is per call. The comparison does not stop at the first difference.
static inline int bw_crypt_verify(const char *password, const char *hash) {
    struct crypt_data *data = calloc(1, sizeof(struct crypt_data));
    if (data == NULL) {
        return 0;
    }
    const char *out = crypt_rn(password, hash, data, (int)sizeof(struct crypt_data));
    int equal = 0;
    size_t length = strlen(hash);
    if (out != NULL && out[0] != '*' && strlen(out) == length) {
        unsigned char difference = 0;
        for (size_t i = 0; i < length; i++) {
            difference |= (unsigned char)(out[i] ^ hash[i]);
        }
        equal = difference == 0;
    }
    explicit_bzero(data, sizeof(struct crypt_data));
    free(data);
    return equal;
}

#endif
