/* test_sha256.c: SHA-256 against the FIPS 180-4 examples (NIST's published digests) and
 * sha256sum on a file, streamed in uneven pieces. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "io_testutil.h"
#include "mtb/sha256.h"

static void digest(const char *msg, size_t n, size_t piece, char hex[65])
{
    mtb_sha256 s;
    mtb_sha256_init(&s);
    for (size_t i = 0; i < n; i += piece)
        mtb_sha256_update(&s, msg + i, n - i < piece ? n - i : piece);
    mtb_sha256_final(&s, hex);
}

Test(sha256, nist_examples)
{
    char hex[65];
    digest("abc", 3, 3, hex);
    cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    digest("", 0, 1, hex);
    cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"; /* 448 bits */
    for (size_t piece = 1; piece <= 64; piece += 7) {
        digest(m, strlen(m), piece, hex);
        cr_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
                         "piece %zu", piece);
    }
}

Test(sha256, file_matches_sha256sum)
{
    char dir[IO_TMP_LEN], path[IO_PATH_LEN], cmd[2 * IO_PATH_LEN], want[65] = "", hex[65];
    io_tmpdir(dir);
    FILE *f = fopen(io_path(path, dir, "data.bin"), "wb");
    for (int i = 0; i < 200003; i++)
        fputc((i * 131 + 7) & 0xff, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "sha256sum %s", path);
    FILE *p = popen(cmd, "r");
    cr_assert(p && fscanf(p, "%64s", want) == 1);
    pclose(p);
    mtb_error err = {0};
    cr_assert_eq(mtb_sha256_file(path, hex, &err), MTB_OK, "%s", err.msg);
    cr_assert_str_eq(hex, want);
    cr_assert_neq(mtb_sha256_file("/nonexistent/x", hex, &err), MTB_OK);
    io_rmtree(dir);
}
