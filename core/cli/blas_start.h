/* blas_start.h: the first call of every mtb program (bin/mtb and the repro-* programs): run
 * on the best BLAS kernel that passes the self-check, re-executing the program once with
 * OPENBLAS_CORETYPE set when OpenBLAS picked an older one (docs/performance.md).
 *
 * Program code, not library code: it may print, exec and exit. It depends on libmtb only, so
 * the reproduction programs link it too (paper_repro/common/repro.h: repro_start). */
#ifndef MTB_CLI_BLAS_START_H
#define MTB_CLI_BLAS_START_H

/* Removes `--blas-kernel NAME` (or `--blas-kernel=NAME`, anywhere before a "--") and a
 * leading `--quiet`/`-q` (before the command) from argv, updating *argc; a `--quiet` or `-q`
 * anywhere silences the note. Then decides: returns on the kernel to run on (possibly after
 * re-executing the program, which restarts main), or prints the error and exits 2 for a
 * request that cannot be met (unknown kernel, one the CPU cannot run). */
void mtb_program_blas_start(int *argc, char **argv);

/* The options above, for the programs' --help texts. */
#define MTB_BLAS_START_HELP \
    "  --blas-kernel NAME   run OpenBLAS's NAME kernel (e.g. Haswell, SkylakeX) or `auto`, the\n" \
    "                       best one this CPU supports that passes the self-check, even when\n" \
    "                       OPENBLAS_CORETYPE is set (also: MTB_BLAS_KERNEL=NAME). Without it,\n" \
    "                       OPENBLAS_CORETYPE is respected, and otherwise mtb switches to the\n" \
    "                       best kernel when OpenBLAS picked an older one (docs/performance.md)\n" \
    "  -q, --quiet          no note on stderr about the kernel (failures are still reported)\n"

#endif
