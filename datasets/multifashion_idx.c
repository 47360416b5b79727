/* multifashion_idx.c: reading Fashion-MNIST's gzip-compressed IDX files (multifashion.h).
 *
 * IDX (LeCun's MNIST format): a big-endian uint32 magic 0x00000800 | (type << 8) | rank, with
 * type 0x08 = unsigned byte, then rank big-endian uint32 dimensions, then the bytes. Images
 * are magic 2051 (rank 3: count, rows, cols), labels 2049 (rank 1: count).
 *
 * The files come from outside, so nothing they declare is believed before it is checked:
 * the compressed file's size is capped before it is read, the header is inflated first and
 * must agree with the expected magic, count and 28 x 28 before the payload is allocated (of
 * exactly that size), the stream must then end exactly where the payload ends, and a damaged
 * stream is an error, never a crash (zlib checks the gzip CRC and length). */
#include "mtb/multifashion.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "mtb/sha256.h"

const char *const mtb_fashion_file_names[MTB_FASHION_N_FILES] = {
    "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz"};

/* spec multifashion.md sec. 1, measured on the Debian package's files */
const char *const mtb_fashion_sha256[MTB_FASHION_N_FILES] = {
    "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05"};

/* The largest .gz accepted (the training images are 26.4 MB), and the most items a file may
 * declare (Fashion-MNIST's training set has 60 000). */
#define MAX_GZ_BYTES ((size_t)64 << 20)
#define MAX_ITEMS (1 << 20)

void mtb_idx_free(mtb_idx *idx)
{
    if (!idx)
        return;
    free(idx->data);
    memset(idx, 0, sizeof *idx);
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Inflates into out[0..n) exactly. Returns Z_OK when the buffer is full and the stream has
 * more, Z_STREAM_END when the stream ended (then *got < n possibly), or a zlib error. */
static int inflate_exact(z_stream *zs, unsigned char *out, size_t n, size_t *got)
{
    *got = 0;
    while (*got < n) {
        size_t chunk = n - *got > (1u << 30) ? (1u << 30) : n - *got;
        zs->next_out = out + *got;
        zs->avail_out = (uInt)chunk;
        int rc = inflate(zs, Z_NO_FLUSH);
        *got += chunk - zs->avail_out;
        if (rc == Z_STREAM_END)
            return rc;
        if (rc != Z_OK)
            return rc == Z_BUF_ERROR ? Z_DATA_ERROR : rc; /* no progress: truncated input */
    }
    return Z_OK;
}

static const char *zmsg(const z_stream *zs, int rc)
{
    if (zs->msg)
        return zs->msg;
    return rc == Z_MEM_ERROR ? "out of memory" : rc == Z_NEED_DICT ? "needs a dictionary"
                                                                   : "damaged data";
}

mtb_status mtb_idx_decode_gz(const void *gz, size_t len, const char *name, uint32_t want_magic,
                             size_t want_count, mtb_idx *out, mtb_error *err)
{
    memset(out, 0, sizeof *out);
    if (want_magic != 2051 && want_magic != 2049)
        return mtb_fail(err, MTB_EINVAL, "%s: IDX magic %u is neither 2051 (images) nor 2049 "
                        "(labels)", name, want_magic);
    if (len > MAX_GZ_BYTES || len > (size_t)UINT32_MAX)
        return mtb_fail(err, MTB_EIO, "%s: %zu bytes, more than the %zu a Fashion-MNIST file "
                        "can have", name, len, MAX_GZ_BYTES);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) /* gzip wrapper only */
        return mtb_fail(err, MTB_ENOMEM, "%s: cannot start decompressing (out of memory)", name);
    zs.next_in = (unsigned char *)(uintptr_t)gz;
    zs.avail_in = (uInt)len;
    const int images = want_magic == 2051;
    const size_t head_len = images ? 16 : 8;
    unsigned char head[16];
    size_t got;
    mtb_status st = MTB_OK;
    int rc = inflate_exact(&zs, head, head_len, &got);
    if (rc != Z_OK && !(rc == Z_STREAM_END && got == head_len)) {
        st = rc == Z_STREAM_END
                 ? mtb_fail(err, MTB_EIO, "%s: %zu bytes after decompression, too short for an "
                            "IDX header", name, got)
                 : mtb_fail(err, MTB_EIO, "%s: not a valid gzip file (%s)", name, zmsg(&zs, rc));
        goto done;
    }
    uint32_t magic = be32(head), count = be32(head + 4);
    uint32_t rows = images ? be32(head + 8) : 1, cols = images ? be32(head + 12) : 1;
    if (magic != want_magic) {
        st = mtb_fail(err, MTB_EIO, "%s: IDX magic number %u, expected %u (%s)", name, magic,
                      want_magic, images ? "unsigned-byte images, rank 3" : "unsigned-byte labels, rank 1");
        goto done;
    }
    if (count != want_count) {
        st = mtb_fail(err, MTB_EIO, "%s: %u %s, expected %zu", name, count,
                      images ? "images" : "labels", want_count);
        goto done;
    }
    if (images && (rows != MTB_MF_ITEM || cols != MTB_MF_ITEM)) {
        st = mtb_fail(err, MTB_EIO, "%s: images of %u x %u pixels, expected %d x %d", name, rows,
                      cols, MTB_MF_ITEM, MTB_MF_ITEM);
        goto done;
    }
    /* rows, cols are 28 (images) or 1 (labels), count < 2^32: no overflow in 64 bits */
    size_t n = (size_t)count * rows * cols;
    /* Nothing larger than Fashion-MNIST is believed, and deflate expands at most 1032:1, so
     * a payload the compressed bytes cannot hold is refused before it is allocated. */
    if (count > MAX_ITEMS || n > (len + 1) * 1032) {
        st = mtb_fail(err, MTB_EIO, "%s: the header declares %u items (%zu bytes), more than "
                      "%d items or than %zu compressed bytes can hold", name, count, n, MAX_ITEMS,
                      len);
        goto done;
    }
    out->data = malloc(n ? n : 1);
    if (!out->data) {
        st = mtb_fail(err, MTB_ENOMEM, "%s: out of memory for %zu bytes", name, n);
        goto done;
    }
    rc = n ? inflate_exact(&zs, out->data, n, &got) : Z_OK;
    if (rc == Z_STREAM_END && got < n) {
        st = mtb_fail(err, MTB_EIO, "%s: the data end after %zu of the %zu bytes the header "
                      "declares (truncated file?)", name, got, n);
        goto done;
    }
    if (rc != Z_OK && rc != Z_STREAM_END) {
        st = mtb_fail(err, MTB_EIO, "%s: decompression failed after %zu of %zu bytes (%s)", name,
                      got, n, zmsg(&zs, rc));
        goto done;
    }
    if (rc == Z_OK) {
        /* the payload is complete: the stream must end here (the CRC is checked at its end) */
        unsigned char extra;
        rc = inflate_exact(&zs, &extra, 1, &got);
        if (rc != Z_STREAM_END || got != 0) {
            st = got ? mtb_fail(err, MTB_EIO, "%s: more data than the %zu bytes the header "
                                "declares", name, n)
                     : mtb_fail(err, MTB_EIO, "%s: damaged end of the gzip stream (%s)", name,
                                zmsg(&zs, rc));
            goto done;
        }
    }
    if (zs.avail_in != 0) {
        st = mtb_fail(err, MTB_EIO, "%s: %u bytes after the end of the gzip stream", name,
                      zs.avail_in);
        goto done;
    }
    out->magic = magic;
    out->count = count;
    out->rows = (int)rows;
    out->cols = (int)cols;
done:
    inflateEnd(&zs);
    if (st)
        mtb_idx_free(out);
    return st;
}

/* The whole file, at most MAX_GZ_BYTES, into a malloc'd buffer. */
static mtb_status read_file(const char *path, unsigned char **buf, size_t *len, mtb_error *err)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return mtb_fail(err, MTB_EIO, "cannot open %s: %s", path, strerror(errno));
    struct stat sb;
    mtb_status st = MTB_OK;
    if (fstat(fileno(f), &sb) || !S_ISREG(sb.st_mode)) {
        st = mtb_fail(err, MTB_EIO, "%s is not a regular file", path);
    } else if ((uint64_t)sb.st_size > MAX_GZ_BYTES) {
        st = mtb_fail(err, MTB_EIO, "%s: %lld bytes, more than the %zu a Fashion-MNIST file can "
                      "have", path, (long long)sb.st_size, MAX_GZ_BYTES);
    } else {
        size_t n = (size_t)sb.st_size;
        *buf = malloc(n ? n : 1);
        if (!*buf)
            st = mtb_fail(err, MTB_ENOMEM, "%s: out of memory for %zu bytes", path, n);
        else if (fread(*buf, 1, n, f) != n || fgetc(f) != EOF)
            st = mtb_fail(err, MTB_EIO, "%s: the file changed or could not be read", path);
        else
            *len = n;
    }
    fclose(f);
    if (st) {
        free(*buf);
        *buf = NULL;
    }
    return st;
}

void mtb_fashion_free(mtb_fashion *src)
{
    if (!src)
        return;
    free(src->train_x), free(src->train_y), free(src->test_x), free(src->test_y);
    memset(src, 0, sizeof *src);
}

mtb_status mtb_fashion_load(const char *dir, int verify, mtb_fashion *src, mtb_error *err)
{
    memset(src, 0, sizeof *src);
    if (!dir)
        dir = MTB_MF_DEFAULT_SOURCE;
    static const uint32_t magic[MTB_FASHION_N_FILES] = {2051, 2049, 2051, 2049};
    static const size_t count[MTB_FASHION_N_FILES] = {60000, 60000, 10000, 10000};
    uint8_t **dst[MTB_FASHION_N_FILES] = {&src->train_x, &src->train_y, &src->test_x, &src->test_y};
    for (int i = 0; i < MTB_FASHION_N_FILES; i++) {
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, mtb_fashion_file_names[i]) >= sizeof path) {
            mtb_fashion_free(src);
            return mtb_fail(err, MTB_EINVAL, "Fashion-MNIST directory name too long: %s", dir);
        }
        unsigned char *buf;
        size_t len;
        mtb_status st = read_file(path, &buf, &len, err);
        if (!st) {
            mtb_sha256 h;
            mtb_sha256_init(&h);
            mtb_sha256_update(&h, buf, len);
            mtb_sha256_final(&h, src->sha256[i]);
            if (verify && strcmp(src->sha256[i], mtb_fashion_sha256[i]))
                st = mtb_fail(err, MTB_EIO, "%s has SHA-256 %s, expected %s (a different or "
                              "damaged copy)", path, src->sha256[i], mtb_fashion_sha256[i]);
        }
        if (!st) {
            mtb_idx idx;
            st = mtb_idx_decode_gz(buf, len, path, magic[i], count[i], &idx, err);
            if (!st)
                *dst[i] = idx.data; /* ownership moves to src */
        }
        free(buf);
        if (st) {
            mtb_error_prefix(err, "Fashion-MNIST source (Debian package %s; install it with "
                             "apt-get install %s, or give its directory): ", MTB_MF_PACKAGE,
                             MTB_MF_PACKAGE);
            mtb_fashion_free(src);
            return st;
        }
    }
    src->n_train = count[0];
    src->n_test = count[2];
    for (size_t i = 0; i < src->n_train + src->n_test; i++) {
        uint8_t c = i < src->n_train ? src->train_y[i] : src->test_y[i - src->n_train];
        if (c >= MTB_MF_CLASSES) {
            int tr = i < count[0];
            mtb_status st = mtb_fail(err, MTB_EIO, "Fashion-MNIST source: label %zu of %s is %u, expected "
                            "0..%d (a damaged copy; reinstall %s)", tr ? i : i - count[0],
                            mtb_fashion_file_names[tr ? 1 : 3], (unsigned)c, MTB_MF_CLASSES - 1,
                            MTB_MF_PACKAGE);
            mtb_fashion_free(src);
            return st;
        }
    }
    return MTB_OK;
}
