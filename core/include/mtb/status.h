/* status.h: how every fallible mtb function reports failure.
 *
 * Library code never exits, aborts or prints. A fallible function returns an
 * mtb_status and, when the caller passed a non-NULL mtb_error, leaves a
 * one-line message in it that names the bad value and, where possible, says
 * how to fix it ("dataset /train/x has rank 1, expected 2"). Programs turn
 * the message into stderr output and a non-zero exit. */
#ifndef MTB_STATUS_H
#define MTB_STATUS_H

#include <stddef.h>

typedef enum mtb_status {
    MTB_OK = 0,
    MTB_EINVAL,       /* a bad argument, option or input shape */
    MTB_ENOMEM,       /* an allocation failed */
    MTB_EIO,          /* a file could not be read or written, or its content is invalid */
    MTB_ENUMERIC,     /* a non-finite value or a singular system where one cannot be allowed */
    MTB_EUNSUPPORTED  /* a valid request this build or method does not implement */
} mtb_status;

#define MTB_ERRMSG_LEN 512

typedef struct mtb_error {
    mtb_status status;
    char msg[MTB_ERRMSG_LEN];
} mtb_error;

/* Records status and a printf-style message in err (if non-NULL), returns status.
 * Typical use: return mtb_fail(err, MTB_EINVAL, "tasks must be >= 1, got %d", T); */
mtb_status mtb_fail(mtb_error *err, mtb_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends context to an existing message: "reading runs/a.h5: " + old message. */
void mtb_error_prefix(mtb_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void mtb_error_clear(mtb_error *err);
const char *mtb_strerror(mtb_status status);

#endif
