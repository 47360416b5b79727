/* sha256.h: SHA-256 (FIPS 180-4), for fingerprints of data files and data sets in run files
 * and for checking the pinned hashes of source data. Streaming: init, update, final. */
#ifndef MTB_SHA256_H
#define MTB_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "mtb/status.h"

typedef struct mtb_sha256 {
    uint32_t h[8];
    uint64_t bytes;       /* message length so far */
    unsigned char buf[64];
    size_t fill;          /* bytes waiting in buf */
} mtb_sha256;

void mtb_sha256_init(mtb_sha256 *s);
void mtb_sha256_update(mtb_sha256 *s, const void *data, size_t n);
/* Writes the 64 lowercase hex digits and a terminating 0 to hex (65 bytes). */
void mtb_sha256_final(mtb_sha256 *s, char hex[65]);

/* The SHA-256 of a whole file; MTB_EIO with a message when it cannot be read. */
mtb_status mtb_sha256_file(const char *path, char hex[65], mtb_error *err);

#endif
