/* sha256.c - SHA-256 of matrices, target trees and lock keys, by libcrypto
 * (already loaded through libssh2 and libcurl). Only this file includes
 * OpenSSL; the rest of the program sees struct sha256 and four functions. */
#include "common.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

/* Out of memory for a digest context (a few hundred bytes) or a libcrypto
 * failure on SHA-256 itself: nothing sensible can continue, and a wrong hash
 * would silently mark a matrix or a venv as unchanged. */
static void fatal(const char *what)
{
    fprintf(stderr, "mfbench: libcrypto SHA-256: %s failed\n", what);
    abort();
}

void sha256_init(struct sha256 *s)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c)
        fatal("EVP_MD_CTX_new");
    if (EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1)
        fatal("EVP_DigestInit_ex");
    s->ctx = c;
}

void sha256_update(struct sha256 *s, const void *p, size_t n)
{
    if (n > 0 && EVP_DigestUpdate(s->ctx, p, n) != 1)
        fatal("EVP_DigestUpdate");
}

void sha256_hex(struct sha256 *s, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(s->ctx, md, &len) != 1 || len != 32)
        fatal("EVP_DigestFinal_ex");
    EVP_MD_CTX_free(s->ctx);
    s->ctx = NULL;
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

void sha256_string(const void *p, size_t n, char out[65])
{
    struct sha256 s;
    sha256_init(&s);
    sha256_update(&s, p, n);
    sha256_hex(&s, out);
}
