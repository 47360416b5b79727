/* test_multifashion_load.c: reading a multifashion-v1 file back (multifashion_load.c): the
 * bytes round-trip, a problem trains on the file's data exactly as on the generated data, and
 * a file that is damaged, edited, truncated, of another shape or another format is refused
 * with a message saying what is wrong. Needs Debian's dataset-fashion-mnist. */
#include <criterion/criterion.h>
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io_testutil.h"
#include "mtb/multifashion.h"
#include "mtb/problem.h"

static const unsigned SMALL = 1u << MTB_MF_TEST | 1u << MTB_MF_DEV_VAL; /* 20 000 each */

static mtb_multifashion build(unsigned mask)
{
    mtb_fashion src;
    mtb_error err = {0};
    cr_assert_eq(mtb_fashion_load(NULL, 1, &src, &err), MTB_OK, "%s", err.msg);
    mtb_multifashion mf;
    cr_assert_eq(mtb_multifashion_build(&src, 0, mask, &mf, &err), MTB_OK, "%s", err.msg);
    mtb_fashion_free(&src);
    return mf;
}

static void save(const mtb_multifashion *mf, const char *path)
{
    mtb_error err = {0};
    cr_assert_eq(mtb_multifashion_save(path, mf, &err), MTB_OK, "%s", err.msg);
}

/* Overwrites one byte of a uint8 dataset in place (HDF5, not through mtb). */
static void poke(const char *path, const char *obj, hsize_t row, hsize_t col, uint8_t value)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert(f >= 0);
    hid_t d = H5Dopen2(f, obj, H5P_DEFAULT), space = H5Dget_space(d);
    int rank = H5Sget_simple_extent_ndims(space);
    hsize_t start[3] = {row, col, 0}, one[3] = {1, 1, 1};
    cr_assert(H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, one, NULL) >= 0);
    hid_t mem = H5Screate_simple(rank, one, NULL);
    cr_assert(H5Dwrite(d, H5T_NATIVE_UINT8, mem, space, H5P_DEFAULT, &value) >= 0);
    H5Sclose(mem), H5Sclose(space), H5Dclose(d), H5Fclose(f);
}

static mtb_status load(const char *path, unsigned mask, mtb_multifashion *mf, mtb_error *err)
{
    *err = (mtb_error){0};
    return mtb_multifashion_load(path, mask, mf, err);
}

Test(multifashion_load, the_file_gives_back_the_bytes_seed_and_sources, .timeout = 120)
{
    mtb_multifashion mf = build(SMALL);
    char dir[IO_TMP_LEN], path[IO_PATH_LEN];
    io_tmpdir(dir);
    save(&mf, io_path(path, dir, "mf.h5"));
    mtb_multifashion back;
    mtb_error err;
    cr_assert_eq(load(path, SMALL, &back, &err), MTB_OK, "%s", err.msg);
    cr_assert_eq(back.seed, mf.seed);
    for (int i = 0; i < MTB_FASHION_N_FILES; i++)
        cr_assert_str_eq(back.source_sha256[i], mf.source_sha256[i]);
    for (int id = 0; id < MTB_MF_N_SPLITS; id++) {
        const mtb_mf_split *a = &mf.split[id], *b = &back.split[id];
        cr_assert_eq(b->n, a->n, "split %d", id);
        if (!a->n)
            continue;
        cr_assert(!memcmp(a->x, b->x, a->n * MTB_MF_PIXELS) && !memcmp(a->y, b->y, a->n * 2),
                  "split %s differs after the round trip", mtb_mf_split_names[id]);
    }
    mtb_multifashion_free(&back);
    /* only the asked splits are read; a split the file lacks is named */
    cr_assert_eq(load(path, 1u << MTB_MF_TEST, &back, &err), MTB_OK, "%s", err.msg);
    cr_assert(back.split[MTB_MF_TEST].n == 20000 && back.split[MTB_MF_DEV_VAL].n == 0);
    mtb_multifashion_free(&back);
    cr_assert_eq(load(path, 1u << MTB_MF_TRAIN, &back, &err), MTB_EIO);
    cr_assert(strstr(err.msg, "no split 'train'"), "%s", err.msg);
    cr_assert_eq(load(path, 0, &back, &err), MTB_EINVAL);
    mtb_multifashion_free(&mf);
    io_rmtree(dir);
}

Test(multifashion_load, damaged_edited_or_foreign_files_are_refused, .timeout = 120)
{
    mtb_multifashion mf = build(SMALL);
    char dir[IO_TMP_LEN], path[IO_PATH_LEN], other[IO_PATH_LEN];
    io_tmpdir(dir);
    io_path(path, dir, "mf.h5");
    mtb_multifashion back;
    mtb_error err;

    /* one pixel changed: the split no longer hashes to what the file records */
    save(&mf, path);
    uint8_t px = mf.split[MTB_MF_TEST].x[5 * MTB_MF_PIXELS + MTB_MF_SIDE]; /* image 5, (1, 0) */
    poke(path, "/test/x", 5, 1, (uint8_t)(px ^ 0x55));
    cr_assert_eq(load(path, SMALL, &back, &err), MTB_EIO);
    cr_assert(strstr(err.msg, "hash") && strstr(err.msg, "test"), "%s", err.msg);

    /* a label that is no class */
    save(&mf, path);
    poke(path, "/dev_val/y", 7, 1, 12);
    cr_assert_eq(load(path, SMALL, &back, &err), MTB_EIO);
    cr_assert(strstr(err.msg, "/dev_val/y[7][1] = 12"), "%s", err.msg);

    /* fewer samples than the recipe makes: refused from the shape, before reading */
    mf.split[MTB_MF_TEST].n = 1000;
    save(&mf, path);
    mf.split[MTB_MF_TEST].n = 20000;
    cr_assert_eq(load(path, SMALL, &back, &err), MTB_EIO);
    cr_assert(strstr(err.msg, "shape (1000 x 36 x 36)") && strstr(err.msg, "20000 x 36 x 36"),
              "%s", err.msg);

    /* a truncated file */
    save(&mf, path);
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp);
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fclose(fp);
    cr_assert_eq(truncate(path, len / 2), 0);
    cr_assert_neq(load(path, SMALL, &back, &err), MTB_OK, "a truncated file was read");
    cr_assert(strstr(err.msg, path), "the message names the file: %s", err.msg);

    /* another mtb format: a data set file */
    mtb_dataset ds;
    cr_assert_eq(mtb_multifashion_dataset(&mf, MTB_MF_DEV_VAL, 100, MTB_MF_TEST, 100, &ds, &err),
                 MTB_OK, "%s", err.msg);
    cr_assert_eq(mtb_dataset_save(io_path(other, dir, "ds.h5"), &ds, &err), MTB_OK, "%s", err.msg);
    mtb_dataset_free(&ds);
    cr_assert_eq(load(other, SMALL, &back, &err), MTB_EIO);
    cr_assert(strstr(err.msg, "format is 'mtb-dataset'"), "%s", err.msg);

    /* not there at all */
    cr_assert_neq(load("/nonexistent/mf.h5", SMALL, &back, &err), MTB_OK);
    mtb_multifashion_free(&mf);
    io_rmtree(dir);
}

Test(multifashion_load, a_problem_trains_on_the_file_as_on_the_generated_data, .timeout = 180)
{
    mtb_multifashion mf = build(1u << MTB_MF_TRAIN | 1u << MTB_MF_TEST);
    char dir[IO_TMP_LEN], path[IO_PATH_LEN];
    io_tmpdir(dir);
    save(&mf, io_path(path, dir, "mf.h5"));
    mtb_multifashion_free(&mf);
    mtb_problem *p = malloc(sizeof *p);
    cr_assert_not_null(p);
    mtb_error err = {0};
    cr_assert_eq(mtb_problem_lookup("multifashion", "smoke", p, &err), MTB_OK, "%s", err.msg);
    mtb_dataset gen, file;
    cr_assert_eq(mtb_problem_make_dataset(p, &gen, &err), MTB_OK, "%s", err.msg);
    cr_assert_eq(mtb_problem_load_dataset(p, path, &file, &err), MTB_OK, "%s", err.msg);
    cr_assert(file.train.n == gen.train.n && file.test.n == gen.test.n && file.T == 2 &&
              file.d_in == gen.d_in && file.y_width == gen.y_width);
    cr_assert(!memcmp(file.train.x, gen.train.x, sizeof(float) * gen.train.n * gen.d_in) &&
              !memcmp(file.train.y, gen.train.y, sizeof(float) * gen.train.n * gen.y_width) &&
              !memcmp(file.test.x, gen.test.x, sizeof(float) * gen.test.n * gen.d_in) &&
              !memcmp(file.test.y, gen.test.y, sizeof(float) * gen.test.n * gen.y_width),
              "the file's training form differs from the generator's");
    cr_assert_str_eq(file.generator, gen.generator);
    mtb_dataset_free(&file);
    mtb_dataset_free(&gen);
    /* a problem of another family reads mtb data sets, and says what it found */
    cr_assert_eq(mtb_problem_lookup("mtr", "smoke", p, &err), MTB_OK, "%s", err.msg);
    cr_assert_eq(mtb_problem_load_dataset(p, path, &file, &err), MTB_EIO);
    cr_assert(strstr(err.msg, "mtb-multifashion"), "%s", err.msg);
    free(p);
    io_rmtree(dir);
}
