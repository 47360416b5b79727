/* status.c: error messages attached to a caller-owned mtb_error (no global state). */
#include "mtb/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

mtb_status mtb_fail(mtb_error *err, mtb_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}

void mtb_error_prefix(mtb_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char head[MTB_ERRMSG_LEN], old[MTB_ERRMSG_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t nh = strlen(head), no = strnlen(old, sizeof old - 1);
    if (nh > sizeof err->msg - 1)
        nh = sizeof err->msg - 1;
    if (no > sizeof err->msg - 1 - nh)
        no = sizeof err->msg - 1 - nh;
    memcpy(err->msg, head, nh);
    memcpy(err->msg + nh, old, no);
    err->msg[nh + no] = '\0';
}

void mtb_error_clear(mtb_error *err)
{
    if (err) {
        err->status = MTB_OK;
        err->msg[0] = '\0';
    }
}

const char *mtb_strerror(mtb_status status)
{
    switch (status) {
    case MTB_OK: return "success";
    case MTB_EINVAL: return "invalid argument";
    case MTB_ENOMEM: return "out of memory";
    case MTB_EIO: return "input/output error";
    case MTB_ENUMERIC: return "numerical error";
    case MTB_EUNSUPPORTED: return "not supported";
    }
    return "unknown status";
}
