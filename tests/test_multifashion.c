/* test_multifashion.c: MultiFashion multifashion-v1 (spec multifashion.md sec. 2 item 9):
 * the source files (pinned hashes, counts, classes), the golden SHA-256 of every generated
 * split (computed once with this code and pinned: any change of the recipe, the RNG or the
 * draw order shows here), label marginals, the zero diagonal of the pair matrix, the offset
 * histograms (chi-square), the mean pixel of the spec's pilot, every source exactly twice as
 * left item, each sample re-made from its recorded sources and offsets, the source-disjoint
 * dev split, the HDF5 file and the training form. Needs Debian's dataset-fashion-mnist
 * (README's install command). */
#include <criterion/criterion.h>
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "io_testutil.h"
#include "mtb/h5.h"
#include "mtb/multifashion.h"

/* sha256(x bytes, then y bytes) of each split at seed 0, from the first run of this code
 * (mtb gen multifashion prints the same). */
static const char *const GOLDEN[MTB_MF_N_SPLITS] = {
    "2b1b0f474a41475defcfca524ff519fa4b5cdcfeb21fca0611ace4b68da96a37",
    "b5ef6b0f410e5fdc7c36e49fb2374be2acc9ad70b79c7430d112ae7d73a7c065",
    "ce46f58923a156f0b2dcf051eb2df9d19e55d2222fc5f0c245ec3b2c5079c1a6",
    "72e17ed31dd5aa2411160c09beddf1ecad88ebf518fc8daa85c319d4488e52b6"};

static mtb_fashion load_source(void)
{
    mtb_fashion src;
    mtb_error err = {0};
    cr_assert_eq(mtb_fashion_load(NULL, 1, &src, &err), MTB_OK, "%s", err.msg);
    return src;
}

static mtb_multifashion build(unsigned mask, uint64_t seed)
{
    mtb_fashion src = load_source();
    mtb_multifashion mf;
    mtb_error err = {0};
    cr_assert_eq(mtb_multifashion_build(&src, seed, mask, &mf, &err), MTB_OK, "%s", err.msg);
    mtb_fashion_free(&src);
    return mf;
}

/* chi-square statistic of counts against expected probabilities */
static double chi2(const size_t *count, const double *p, int k, size_t n)
{
    double s = 0.0;
    for (int i = 0; i < k; i++) {
        double e = p[i] * (double)n;
        s += ((double)count[i] - e) * ((double)count[i] - e) / e;
    }
    return s;
}

Test(multifashion, source_files_are_the_pinned_fashion_mnist)
{
    mtb_fashion src = load_source();
    cr_assert_eq(src.n_train, 60000);
    cr_assert_eq(src.n_test, 10000);
    for (int i = 0; i < MTB_FASHION_N_FILES; i++)
        cr_assert_str_eq(src.sha256[i], mtb_fashion_sha256[i]);
    size_t per[2][MTB_MF_CLASSES] = {{0}};
    for (size_t i = 0; i < 60000; i++)
        per[0][src.train_y[i]]++;
    for (size_t i = 0; i < 10000; i++)
        per[1][src.test_y[i]]++;
    for (int c = 0; c < MTB_MF_CLASSES; c++)
        cr_assert(per[0][c] == 6000 && per[1][c] == 1000, "class %d: %zu / %zu", c, per[0][c],
                  per[1][c]);
    mtb_fashion_free(&src);
}

Test(multifashion, missing_source_names_the_file_and_the_package)
{
    char dir[IO_TMP_LEN];
    io_tmpdir(dir);
    mtb_fashion src;
    mtb_error err = {0};
    cr_assert_eq(mtb_fashion_load(dir, 1, &src, &err), MTB_EIO);
    cr_assert(strstr(err.msg, "train-images-idx3-ubyte.gz") && strstr(err.msg, dir) &&
              strstr(err.msg, "dataset-fashion-mnist"), "%s", err.msg);
    cr_assert_null(src.train_x);
    io_rmtree(dir);
}

/* A copy of the source directory with one file replaced by `bytes`. */
static void source_with(const char *dir, int which, const void *bytes, size_t n)
{
    for (int i = 0; i < MTB_FASHION_N_FILES; i++) {
        char from[512], to[512];
        snprintf(from, sizeof from, "%s/%s", MTB_MF_DEFAULT_SOURCE, mtb_fashion_file_names[i]);
        snprintf(to, sizeof to, "%s/%s", dir, mtb_fashion_file_names[i]);
        if (i == which) {
            FILE *f = fopen(to, "wb");
            cr_assert(f && fwrite(bytes, 1, n, f) == n);
            fclose(f);
        } else {
            cr_assert_eq(symlink(from, to), 0);
        }
    }
}

Test(multifashion, corrupt_source_is_an_error_naming_file_and_package)
{
    char dir[IO_TMP_LEN];
    io_tmpdir(dir);
    source_with(dir, MTB_FASHION_TEST_LABELS, "not gzip at all", 15);
    mtb_fashion src;
    mtb_error err = {0};
    /* the hash check catches it first; without it, the decoder does */
    cr_assert_eq(mtb_fashion_load(dir, 1, &src, &err), MTB_EIO);
    cr_assert(strstr(err.msg, "t10k-labels-idx1-ubyte.gz") && strstr(err.msg, "SHA-256") &&
              strstr(err.msg, "dataset-fashion-mnist"), "%s", err.msg);
    cr_assert_eq(mtb_fashion_load(dir, 0, &src, &err), MTB_EIO);
    cr_assert(strstr(err.msg, "t10k-labels-idx1-ubyte.gz") && strstr(err.msg, "gzip") &&
              strstr(err.msg, "dataset-fashion-mnist"), "%s", err.msg);
    io_rmtree(dir);
}

/* ---- the IDX decoder on hostile input ---------------------------------------------- */

static size_t gzip_bytes(const unsigned char *raw, size_t n, unsigned char *out, size_t cap)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    cr_assert_eq(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = (unsigned char *)raw;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    cr_assert_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
    size_t len = cap - zs.avail_out;
    deflateEnd(&zs);
    return len;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* an IDX image file of count 28 x 28 images (header says declared), payload bytes given */
static size_t idx_images(uint32_t magic, uint32_t declared, uint32_t rows, size_t payload,
                         unsigned char *gz, size_t cap)
{
    size_t n = 16 + payload;
    unsigned char *raw = calloc(n, 1);
    put32(raw, magic), put32(raw + 4, declared), put32(raw + 8, rows), put32(raw + 12, 28);
    for (size_t i = 16; i < n; i++)
        raw[i] = (unsigned char)(i * 7);
    size_t len = gzip_bytes(raw, n, gz, cap);
    free(raw);
    return len;
}

Test(multifashion, idx_decoder_checks_everything_it_is_told)
{
    enum { CAP = 1 << 16 };
    unsigned char *gz = malloc(CAP);
    mtb_idx idx;
    mtb_error err = {0};
    /* a good file of 3 images */
    size_t len = idx_images(2051, 3, 28, 3 * 784, gz, CAP);
    cr_assert_eq(mtb_idx_decode_gz(gz, len, "f", 2051, 3, &idx, &err), MTB_OK, "%s", err.msg);
    cr_assert(idx.count == 3 && idx.rows == 28 && idx.cols == 28 && idx.data[0] == (unsigned char)(16 * 7) &&
              idx.data[1] == (unsigned char)(17 * 7));
    mtb_idx_free(&idx);
    /* each defect, and the word the message must contain */
    struct {
        uint32_t magic, declared, rows;
        size_t payload, want;
        const char *word;
    } bad[] = {
        {2049, 3, 28, 3 * 784, 3, "magic"},        /* labels where images are expected */
        {2051, 4, 28, 3 * 784, 3, "expected 3"},   /* count differs */
        {2051, 3, 27, 3 * 784, 3, "27 x 28"},      /* not 28 x 28 */
        {2051, 3, 28, 2 * 784, 3, "truncated"},    /* payload short */
        {2051, 3, 28, 3 * 784 + 5, 3, "more data"}, /* payload long */
        {2051, 0xFFFFFFFFu, 28, 784, 0xFFFFFFFFu, "more than"}, /* a huge declared count is
                                                                  never allocated */
        {2051, 70000, 28, 784, 70000, "compressed bytes"},      /* more than the bytes can hold */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        len = idx_images(bad[i].magic, bad[i].declared, bad[i].rows, bad[i].payload, gz, CAP);
        mtb_status st = mtb_idx_decode_gz(gz, len, "f", 2051, bad[i].want, &idx, &err);
        cr_assert_eq(st, MTB_EIO, "case %zu", i);
        cr_assert(strstr(err.msg, bad[i].word) && !strncmp(err.msg, "f: ", 3), "case %zu: %s", i,
                  err.msg);
        cr_assert_null(idx.data);
    }
    /* truncated stream, flipped byte (CRC), trailing garbage, empty input, not gzip */
    len = idx_images(2051, 3, 28, 3 * 784, gz, CAP);
    for (size_t cut = 0; cut < len; cut += len / 13 + 1)
        cr_assert_eq(mtb_idx_decode_gz(gz, cut, "f", 2051, 3, &idx, &err), MTB_EIO, "cut %zu", cut);
    gz[len - 6] ^= 0x40; /* inside the CRC-32 */
    cr_assert_eq(mtb_idx_decode_gz(gz, len, "f", 2051, 3, &idx, &err), MTB_EIO);
    gz[len - 6] ^= 0x40;
    gz[len] = 1;
    cr_assert_eq(mtb_idx_decode_gz(gz, len + 1, "f", 2051, 3, &idx, &err), MTB_EIO);
    cr_assert(strstr(err.msg, "after the end"), "%s", err.msg);
    cr_assert_eq(mtb_idx_decode_gz(gz, 0, "f", 2051, 3, &idx, &err), MTB_EIO);
    cr_assert_eq(mtb_idx_decode_gz("hello world, not gzip", 21, "f", 2051, 3, &idx, &err), MTB_EIO);
    /* labels: header of 8 bytes */
    unsigned char raw[8 + 5] = {0};
    put32(raw, 2049), put32(raw + 4, 5);
    len = gzip_bytes(raw, sizeof raw, gz, CAP);
    cr_assert_eq(mtb_idx_decode_gz(gz, len, "l", 2049, 5, &idx, &err), MTB_OK, "%s", err.msg);
    cr_assert(idx.count == 5 && idx.rows == 1 && idx.cols == 1);
    mtb_idx_free(&idx);
    free(gz);
}

/* ---- the construction ---------------------------------------------------------------- */

Test(multifashion, golden_sha256_of_every_split, .timeout = 120)
{
    mtb_multifashion mf = build(0xF, 0);
    static const size_t n[MTB_MF_N_SPLITS] = {120000, 20000, 100000, 20000};
    for (int id = 0; id < MTB_MF_N_SPLITS; id++) {
        char hex[65];
        cr_assert_eq(mf.split[id].n, n[id]);
        mtb_mf_split_sha256(&mf.split[id], hex);
        cr_assert_str_eq(hex, GOLDEN[id], "split %s", mtb_mf_split_names[id]);
    }
    mtb_multifashion_free(&mf);
}

Test(multifashion, seed_changes_the_instance_and_only_the_asked_splits_are_built)
{
    mtb_multifashion a = build(1u << MTB_MF_TEST, 1);
    cr_assert(a.split[MTB_MF_TRAIN].n == 0 && a.split[MTB_MF_DEV_VAL].n == 0);
    char hex[65];
    mtb_mf_split_sha256(&a.split[MTB_MF_TEST], hex);
    cr_assert_str_neq(hex, GOLDEN[MTB_MF_TEST]);
    mtb_multifashion_free(&a);
    /* the test split alone equals the test split built with the others (own stream) */
    mtb_multifashion b = build(1u << MTB_MF_TEST, 0);
    mtb_mf_split_sha256(&b.split[MTB_MF_TEST], hex);
    cr_assert_str_eq(hex, GOLDEN[MTB_MF_TEST]);
    mtb_multifashion_free(&b);
}

/* Statistics of one split from sources first .. first + N - 1. */
static void check_split(const mtb_mf_split *s, size_t first, size_t N, const uint8_t *src_labels)
{
    cr_assert_eq(s->n, 2 * N);
    size_t *left_uses = calloc(N, sizeof *left_uses);
    size_t pair[MTB_MF_CLASSES][MTB_MF_CLASSES] = {{0}};
    size_t lab[2][MTB_MF_CLASSES] = {{0}}, off_l[25] = {0}, off_r[25] = {0};
    for (size_t i = 0; i < s->n; i++) {
        const uint32_t *so = s->source + 2 * i;
        cr_assert(so[0] >= first && so[0] < first + N && so[1] >= first && so[1] < first + N,
                  "sample %zu uses sources %u, %u outside %zu..%zu", i, so[0], so[1], first,
                  first + N - 1);
        cr_assert(s->y[2 * i] == src_labels[so[0]] && s->y[2 * i + 1] == src_labels[so[1]]);
        left_uses[so[0] - first]++;
        pair[s->y[2 * i]][s->y[2 * i + 1]]++;
        lab[0][s->y[2 * i]]++, lab[1][s->y[2 * i + 1]]++;
        const uint8_t *o = s->offset + 4 * i;
        cr_assert(o[0] <= 4 && o[1] <= 4 && o[2] >= 4 && o[2] <= 8 && o[3] >= 4 && o[3] <= 8);
        cr_assert(!(o[0] == o[2] && o[1] == o[3]), "sample %zu: both items at the same corner", i);
        off_l[o[0] * 5 + o[1]]++;
        off_r[(o[2] - 4) * 5 + (o[3] - 4)]++;
    }
    for (size_t k = 0; k < N; k++)
        cr_assert_eq(left_uses[k], 2, "source %zu is the left item of %zu samples", first + k,
                     left_uses[k]);
    for (int c = 0; c < MTB_MF_CLASSES; c++)
        cr_assert_eq(pair[c][c], 0, "%zu samples pair class %d with itself", pair[c][c], c);
    /* left labels: exactly twice the source marginal; right labels: near uniform (chi-square,
     * 9 degrees of freedom, 0.999 quantile 27.88; the instance is fixed, so not a flaky test) */
    double p10[MTB_MF_CLASSES];
    size_t src_count[MTB_MF_CLASSES] = {0};
    for (size_t k = 0; k < N; k++)
        src_count[src_labels[first + k]]++;
    for (int c = 0; c < MTB_MF_CLASSES; c++) {
        cr_assert_eq(lab[0][c], 2 * src_count[c]);
        p10[c] = (double)src_count[c] / (double)N;
    }
    double c2 = chi2(lab[1], p10, MTB_MF_CLASSES, s->n);
    cr_assert(c2 < 27.88, "right labels: chi-square %.2f against the source marginal", c2);
    /* offsets: left uniform on 25 corners; right uniform except the redraw of (4, 4) when the
     * left one is (4, 4): P(4, 4) = 24/25 * 1/25, others 24/625 + 1/25 * 1/24. 24 degrees of
     * freedom, 0.999 quantile 51.18. */
    double pl[25], pr[25];
    for (int k = 0; k < 25; k++) {
        pl[k] = 1.0 / 25.0;
        pr[k] = k == 0 ? 24.0 / 625.0 : 24.0 / 625.0 + 1.0 / 600.0;
    }
    double cl = chi2(off_l, pl, 25, s->n), cr = chi2(off_r, pr, 25, s->n);
    cr_assert(cl < 51.18 && cr < 51.18, "offset histograms: chi-square %.2f (left), %.2f (right)",
              cl, cr);
    free(left_uses);
}

Test(multifashion, pairs_labels_offsets_and_left_items, .timeout = 120)
{
    mtb_fashion src = load_source();
    mtb_multifashion mf;
    mtb_error err = {0};
    cr_assert_eq(mtb_multifashion_build(&src, 0, 0xF, &mf, &err), MTB_OK, "%s", err.msg);
    check_split(&mf.split[MTB_MF_TRAIN], 0, 60000, src.train_y);
    check_split(&mf.split[MTB_MF_TEST], 0, 10000, src.test_y);
    check_split(&mf.split[MTB_MF_DEV_TRAIN], 0, 50000, src.train_y);
    check_split(&mf.split[MTB_MF_DEV_VAL], 50000, 10000, src.train_y);
    /* mean pixel: the spec's pilot instance of this recipe gave 0.2773 on train */
    const mtb_mf_split *tr = &mf.split[MTB_MF_TRAIN];
    double sum = 0.0;
    for (size_t i = 0; i < tr->n * MTB_MF_PIXELS; i++)
        sum += tr->x[i];
    double mean = sum / 255.0 / (double)(tr->n * MTB_MF_PIXELS);
    cr_assert(fabs(mean - 0.2773) < 0.0005, "mean pixel %.5f, the spec's pilot 0.2773", mean);
    /* each test sample re-made from its sources and offsets: zero canvas, max of the items */
    const mtb_mf_split *te = &mf.split[MTB_MF_TEST];
    uint8_t canvas[MTB_MF_PIXELS];
    for (size_t i = 0; i < te->n; i++) {
        memset(canvas, 0, sizeof canvas);
        for (int j = 0; j < 2; j++) {
            const uint8_t *item = src.test_x + (size_t)te->source[2 * i + j] * 784;
            int dy = te->offset[4 * i + 2 * j], dx = te->offset[4 * i + 2 * j + 1];
            for (int r = 0; r < 28; r++)
                for (int c = 0; c < 28; c++) {
                    uint8_t *p = &canvas[(dy + r) * 36 + dx + c];
                    *p = item[r * 28 + c] > *p ? item[r * 28 + c] : *p;
                }
        }
        cr_assert(!memcmp(canvas, te->x + i * MTB_MF_PIXELS, sizeof canvas), "test sample %zu", i);
    }
    mtb_multifashion_free(&mf);
    mtb_fashion_free(&src);
}

/* ---- storage and the training form --------------------------------------------------- */

Test(multifashion, hdf5_file_holds_the_bytes_and_the_recipe)
{
    mtb_multifashion mf = build(1u << MTB_MF_DEV_VAL, 0);
    char dir[IO_TMP_LEN], path[IO_TMP_LEN + 16];
    io_tmpdir(dir);
    snprintf(path, sizeof path, "%s/mf.h5", dir);
    mtb_error err = {0};
    cr_assert_eq(mtb_multifashion_save(path, &mf, &err), MTB_OK, "%s", err.msg);
    const mtb_mf_split *s = &mf.split[MTB_MF_DEV_VAL];
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    cr_assert(f >= 0);
    const char *objs[3] = {"/dev_val/x", "/dev_val/y", "/dev_val/offset"};
    const uint8_t *want[3] = {s->x, s->y, s->offset};
    const size_t bytes[3] = {s->n * MTB_MF_PIXELS, s->n * 2, s->n * 4};
    for (int k = 0; k < 3; k++) {
        hid_t d = H5Dopen2(f, objs[k], H5P_DEFAULT);
        cr_assert(d >= 0, "%s", objs[k]);
        hid_t t = H5Dget_type(d);
        cr_assert(H5Tget_size(t) == 1 && H5Tget_sign(t) == H5T_SGN_NONE, "%s is not uint8", objs[k]);
        H5Tclose(t);
        uint8_t *buf = malloc(bytes[k]);
        cr_assert(H5Dread(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
        cr_assert(!memcmp(buf, want[k], bytes[k]), "%s differs", objs[k]);
        free(buf);
        H5Dclose(d);
    }
    cr_assert(H5Lexists(f, "/train", H5P_DEFAULT) <= 0, "a split that was not built was written");
    H5Fclose(f);
    mtb_h5 *h = mtb_h5_open(path, &err);
    cr_assert_not_null(h, "%s", err.msg);
    char buf[128];
    cr_assert_eq(mtb_h5_attr_get_str(h, "/", "recipe", buf, sizeof buf, &err), MTB_OK);
    cr_assert_str_eq(buf, "multifashion-v1");
    cr_assert_eq(mtb_h5_attr_get_str(h, "/dev_val", "sha256_x_y", buf, sizeof buf, &err), MTB_OK);
    cr_assert_str_eq(buf, GOLDEN[MTB_MF_DEV_VAL]);
    size_t n;
    char **hs;
    cr_assert_eq(mtb_h5_attr_get_strs(h, "/", "source_sha256", &n, &hs, &err), MTB_OK, "%s", err.msg);
    cr_assert_eq(n, 4);
    for (int i = 0; i < 4; i++)
        cr_assert_str_eq(hs[i], mtb_fashion_sha256[i]);
    mtb_h5_free_strs(hs, n);
    int64_t *src;
    size_t dims[2];
    cr_assert_eq(mtb_h5_read_i64(h, "/dev_val/source", 2, dims, &src, &err), MTB_OK, "%s", err.msg);
    cr_assert(dims[0] == s->n && dims[1] == 2 && src[0] == s->source[0] && src[3] == s->source[3]);
    free(src);
    mtb_h5_close(h);
    mtb_multifashion_free(&mf);
    io_rmtree(dir);
}

Test(multifashion, training_form_is_pixels_over_255_and_two_ce_tasks)
{
    mtb_multifashion mf = build(1u << MTB_MF_TEST | 1u << MTB_MF_DEV_VAL, 0);
    mtb_dataset ds;
    mtb_error err = {0};
    cr_assert_eq(mtb_multifashion_dataset(&mf, MTB_MF_DEV_VAL, 1200, MTB_MF_TEST, 0, &ds, &err),
                 MTB_OK, "%s", err.msg);
    cr_assert(ds.T == 2 && ds.d_in == 1296 && ds.y_width == 2 && ds.train.n == 1200 &&
              ds.test.n == 20000);
    cr_assert_eq(mtb_dataset_check(&ds, &err), MTB_OK, "%s", err.msg);
    for (int t = 0; t < 2; t++)
        cr_assert(ds.tasks[t].loss == MTB_LOSS_CE && ds.tasks[t].out_width == 10 &&
                  ds.tasks[t].target_offset == t);
    const mtb_mf_split *s = &mf.split[MTB_MF_DEV_VAL];
    for (size_t i = 0; i < 1200 * MTB_MF_PIXELS; i += 37)
        cr_assert_eq(ds.train.x[i], (float)s->x[i] / 255.0f);
    for (size_t i = 0; i < 2400; i++)
        cr_assert_eq(ds.train.y[i], (float)s->y[i]);
    mtb_dataset_free(&ds);
    cr_assert_eq(mtb_multifashion_dataset(&mf, MTB_MF_TRAIN, 0, MTB_MF_TEST, 0, &ds, &err),
                 MTB_EINVAL, "the train split was not built");
    cr_assert_eq(mtb_multifashion_dataset(&mf, MTB_MF_DEV_VAL, 20001, MTB_MF_TEST, 0, &ds, &err),
                 MTB_EINVAL);
    mtb_multifashion_free(&mf);
}
