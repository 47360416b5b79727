/* blas_kernel.c: the CPU's instruction sets, the kernels OpenBLAS offers on x86-64, and what
 * the loaded OpenBLAS says about itself (blas_kernel.h).
 *
 * The kernel table follows OpenBLAS's DYNAMIC_ARCH list for x86-64 (driver/others/dynamic.c
 * and the kernel/x86_64/KERNEL.<TARGET> files: which instruction sets each target's GEMM
 * kernels are written in). Levels only order kernels by those instruction sets; the
 * candidates mtb may choose are the generic Intel-named ladder, which runs on any vendor's
 * CPU with the instructions (OpenBLAS itself maps AMD Zen to the Haswell kernels and Zen 4/5
 * to SkylakeX/Cooperlake). */
#include "mtb/blas_kernel.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define MTB_X86 1
#else
#define MTB_X86 0
#endif

enum {
    B_SSE3 = 1u << 0, B_SSSE3 = 1u << 1, B_SSE4_1 = 1u << 2, B_SSE4_2 = 1u << 3, B_AVX = 1u << 4,
    B_AVX2 = 1u << 5, B_FMA = 1u << 6, B_512F = 1u << 7, B_512BW = 1u << 8, B_512DQ = 1u << 9,
    B_512VL = 1u << 10, B_BF16 = 1u << 11, B_FP16 = 1u << 12, B_AMX_BF16 = 1u << 13,
    B_SSE4A = 1u << 14, B_FMA4 = 1u << 15,
};
#define B_AVX512 (B_512F | B_512BW | B_512DQ | B_512VL)
#define B_SSE4x (B_SSE3 | B_SSSE3 | B_SSE4_1 | B_SSE4_2) /* every CPU with AVX has these */

/* Feature bit -> the flag's name in /proc/cpuinfo, in the order they are printed. */
static const struct {
    unsigned bit;
    const char *name;
} feature_names[] = {
    {B_SSE3, "sse3"},     {B_SSSE3, "ssse3"},     {B_SSE4_1, "sse4_1"},       {B_SSE4_2, "sse4_2"},
    {B_SSE4A, "sse4a"},   {B_AVX, "avx"},         {B_FMA4, "fma4"},           {B_AVX2, "avx2"},
    {B_FMA, "fma"},       {B_512F, "avx512f"},    {B_512BW, "avx512bw"},      {B_512DQ, "avx512dq"},
    {B_512VL, "avx512vl"}, {B_BF16, "avx512_bf16"}, {B_FP16, "avx512_fp16"}, {B_AMX_BF16, "amx_bf16"},
};
#define N_FEATURES (sizeof feature_names / sizeof feature_names[0])

static unsigned feature_bits(const mtb_cpu_features *f)
{
    const int on[] = {f->sse3,    f->ssse3,    f->sse4_1,   f->sse4_2,      f->sse4a,       f->avx,
                      f->fma4,    f->avx2,     f->fma,      f->avx512f,     f->avx512bw,    f->avx512dq,
                      f->avx512vl, f->avx512_bf16, f->avx512_fp16, f->amx_bf16};
    unsigned bits = 0;
    for (size_t i = 0; i < N_FEATURES; i++)
        if (on[i])
            bits |= feature_names[i].bit;
    return bits;
}

/* Oldest first. SapphireRapids' minimum version: the 0.3.21 DYNAMIC_ARCH build does not
 * carry it (its library holds no such core name); later releases list it. */
static const mtb_blas_kernel kernels[] = {
    {"Katmai", 0, "x86 (32-bit era; SSE)", 0, NULL, 0},
    {"Coppermine", 0, "x86 (32-bit era; SSE)", 0, NULL, 0},
    {"Northwood", 0, "SSE2", 0, NULL, 0},
    {"Banias", 0, "SSE2", 0, NULL, 0},
    {"Athlon", 0, "SSE2 (AMD)", 0, NULL, 0},
    {"Opteron", 0, "SSE2 (AMD)", 0, NULL, 0},
    {"Prescott", 1, "SSE3 (the x86-64 fallback)", 1, NULL, B_SSE3},
    {"Opteron(SSE3)", 1, "SSE3 (AMD)", 0, NULL, B_SSE3},
    {"Barcelona", 1, "SSE3, SSE4a (AMD)", 0, NULL, B_SSE3 | B_SSE4A},
    {"Nano", 1, "SSE3 (VIA)", 0, NULL, B_SSE3},
    {"Core2", 2, "SSSE3", 1, NULL, B_SSE3 | B_SSSE3},
    {"Atom", 2, "SSSE3", 0, NULL, B_SSE3 | B_SSSE3},
    {"Bobcat", 2, "SSSE3, SSE4a (AMD)", 0, NULL, B_SSE3 | B_SSSE3 | B_SSE4A},
    {"Penryn", 3, "SSE4.1", 1, NULL, B_SSE3 | B_SSSE3 | B_SSE4_1},
    {"Dunnington", 3, "SSE4.1", 0, NULL, B_SSE3 | B_SSSE3 | B_SSE4_1},
    {"Nehalem", 4, "SSE4.2", 1, NULL, B_SSE3 | B_SSSE3 | B_SSE4_1 | B_SSE4_2},
    {"Sandybridge", 5, "AVX", 1, NULL, B_SSE4x | B_AVX},
    {"Bulldozer", 5, "AVX, FMA4 (AMD)", 0, NULL, B_SSE4x | B_AVX | B_FMA4},
    {"Piledriver", 5, "AVX, FMA, FMA4 (AMD)", 0, NULL, B_SSE4x | B_AVX | B_FMA | B_FMA4},
    {"Steamroller", 5, "AVX, FMA, FMA4 (AMD)", 0, NULL, B_SSE4x | B_AVX | B_FMA | B_FMA4},
    {"Excavator", 6, "AVX2, FMA, FMA4 (AMD)", 0, NULL, B_SSE4x | B_AVX | B_AVX2 | B_FMA | B_FMA4},
    {"Haswell", 6, "AVX2, FMA", 1, NULL, B_SSE4x | B_AVX | B_AVX2 | B_FMA},
    {"Zen", 6, "AVX2, FMA (AMD; the Haswell kernels)", 0, NULL, B_SSE4x | B_AVX | B_AVX2 | B_FMA},
    {"SkylakeX", 7, "AVX-512 F, BW, DQ, VL (and AVX2, FMA)", 1, NULL,
     B_SSE4x | B_AVX | B_AVX2 | B_FMA | B_AVX512},
    {"Cooperlake", 8, "SkylakeX's and AVX-512 BF16", 1, NULL,
     B_SSE4x | B_AVX | B_AVX2 | B_FMA | B_AVX512 | B_BF16},
    {"SapphireRapids", 9, "Cooperlake's, AVX-512 FP16 and AMX-BF16", 1, "0.3.22",
     B_SSE4x | B_AVX | B_AVX2 | B_FMA | B_AVX512 | B_BF16 | B_FP16 | B_AMX_BF16},
};
#define N_KERNELS (sizeof kernels / sizeof kernels[0])

const mtb_blas_kernel *mtb_blas_kernels(size_t *n)
{
    if (n)
        *n = N_KERNELS;
    return kernels;
}

const mtb_blas_kernel *mtb_blas_kernel_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < N_KERNELS; i++)
        if (!strcasecmp(name, kernels[i].name))
            return &kernels[i];
    return NULL;
}

const char *mtb_blas_kernel_missing(const mtb_blas_kernel *k, const mtb_cpu_features *f)
{
    if (!k || !f)
        return "a known kernel";
    if (!f->x86)
        return "an x86-64 CPU";
    unsigned have = feature_bits(f), lack = k->needs_bits & ~have;
    for (size_t i = 0; i < N_FEATURES; i++)
        if (lack & feature_names[i].bit)
            return feature_names[i].name;
    return NULL;
}

int mtb_blas_kernel_supported(const mtb_blas_kernel *k, const mtb_cpu_features *f)
{
    return mtb_blas_kernel_missing(k, f) == NULL;
}

const mtb_blas_kernel *mtb_blas_kernel_best(const mtb_cpu_features *f, const char *version)
{
    const mtb_blas_kernel *best = NULL;
    for (size_t i = 0; i < N_KERNELS; i++) {
        const mtb_blas_kernel *k = &kernels[i];
        if (!k->candidate || !mtb_blas_kernel_supported(k, f))
            continue;
        if (k->min_openblas && version && mtb_version_cmp(version, k->min_openblas) < 0)
            continue;
        if (!best || k->level > best->level)
            best = k;
    }
    return best;
}

/* ---- cpuid ------------------------------------------------------------------------------ */

#if MTB_X86
/* XCR0: which register state the OS saves. Only valid to ask when cpuid says OSXSAVE. */
static unsigned long long xgetbv0(void)
{
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}
#endif

void mtb_cpu_features_detect(mtb_cpu_features *f)
{
    if (!f)
        return;
    memset(f, 0, sizeof *f);
#if MTB_X86
    unsigned a, b, c, d, max_leaf = __get_cpuid_max(0, NULL);
    if (max_leaf < 1)
        return;
    f->x86 = 1;
    __cpuid(0, a, b, c, d);
    memcpy(f->vendor, &b, 4), memcpy(f->vendor + 4, &d, 4), memcpy(f->vendor + 8, &c, 4);
    f->vendor[12] = '\0';

    __cpuid(1, a, b, c, d);
    int base_family = (int)((a >> 8) & 0xf), base_model = (int)((a >> 4) & 0xf);
    f->family = base_family == 0xf ? base_family + (int)((a >> 20) & 0xff) : base_family;
    f->model = base_family == 0xf || base_family == 0x6 ? base_model | (int)(((a >> 16) & 0xf) << 4)
                                                       : base_model;
    f->stepping = (int)(a & 0xf);
    f->sse3 = (c >> 0) & 1, f->ssse3 = (c >> 9) & 1, f->sse4_1 = (c >> 19) & 1;
    f->sse4_2 = (c >> 20) & 1;
    int fma = (c >> 12) & 1, avx = (c >> 28) & 1, osxsave = (c >> 27) & 1;
    /* AVX needs the OS to save XMM and YMM state (XCR0 bits 1, 2); AVX-512 also the opmask
     * and both halves of the ZMM state (bits 5, 6, 7). */
    unsigned long long xcr0 = osxsave ? xgetbv0() : 0;
    int os_avx = (xcr0 & 0x6) == 0x6, os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;
    f->avx = avx && os_avx;
    f->fma = fma && os_avx;
    if (max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        f->avx2 = ((b >> 5) & 1) && os_avx;
        f->avx512f = ((b >> 16) & 1) && os_avx512;
        f->avx512dq = ((b >> 17) & 1) && os_avx512;
        f->avx512bw = ((b >> 30) & 1) && os_avx512;
        f->avx512vl = ((b >> 31) & 1) && os_avx512;
        f->avx512_fp16 = ((d >> 23) & 1) && os_avx512;
        /* AMX tile state is XCR0 bits 17-18; OpenBLAS checks the cpuid bit only, as here */
        f->amx_bf16 = (d >> 22) & 1;
        unsigned sub_max = a;
        if (sub_max >= 1) {
            __cpuid_count(7, 1, a, b, c, d);
            f->avx512_bf16 = ((a >> 5) & 1) && os_avx512;
        }
    }
    if (__get_cpuid_max(0x80000000u, NULL) >= 0x80000001u) {
        __cpuid(0x80000001u, a, b, c, d);
        f->sse4a = (c >> 6) & 1;
        f->fma4 = ((c >> 16) & 1) && os_avx;
    }
#endif
}

char *mtb_cpu_features_string(const mtb_cpu_features *f, char *buf, size_t len)
{
    if (!buf || len == 0)
        return buf;
    buf[0] = '\0';
    if (!f)
        return buf;
    unsigned bits = feature_bits(f);
    size_t used = 0;
    for (size_t i = 0; i < N_FEATURES; i++) {
        if (!(bits & feature_names[i].bit))
            continue;
        int w = snprintf(buf + used, len - used, "%s%s", used ? " " : "", feature_names[i].name);
        if (w < 0 || (size_t)w >= len - used) { /* cut at the last whole name */
            buf[used] = '\0';
            break;
        }
        used += (size_t)w;
    }
    return buf;
}

/* ---- what OpenBLAS says ----------------------------------------------------------------- */

const char *mtb_blas_corename(void)
{
    const char *s = openblas_get_corename();
    return s ? s : "unknown";
}

const char *mtb_blas_config(void)
{
    const char *s = openblas_get_config();
    return s ? s : "unknown";
}

char *mtb_blas_version(char *buf, size_t len)
{
    if (!buf || len == 0)
        return buf;
    snprintf(buf, len, "unknown");
    const char *p = strstr(mtb_blas_config(), "OpenBLAS ");
    if (!p)
        return buf;
    p += strlen("OpenBLAS ");
    size_t n = strspn(p, "0123456789.");
    if (n == 0 || n >= len)
        return buf;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return buf;
}

int mtb_blas_dynamic_arch(void)
{
    return strstr(mtb_blas_config(), "DYNAMIC_ARCH") != NULL;
}

int mtb_version_cmp(const char *a, const char *b)
{
    while (a && b && (*a || *b)) {
        char *ea, *eb;
        long x = strtol(a, &ea, 10), y = strtol(b, &eb, 10);
        if (x != y)
            return x < y ? -1 : 1;
        if (ea == a && eb == b)
            break;
        a = *ea == '.' ? ea + 1 : ea;
        b = *eb == '.' ? eb + 1 : eb;
        if (!*ea && !*eb)
            break;
    }
    return 0;
}
