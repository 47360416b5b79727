#!/usr/bin/env bash
# run_profile.sh: where the time of a training step goes, for the issue's two targets (the EW
# step on MTRRegression-10, batch 304, and the parameter-gradient step at T = 128), measured
# with `perf record` (a run of N steps minus a run of one: start-up, the self-check, the
# set-up and the rate measurement cancel). Prints a Markdown section
# for bench/README.md (make_readme.sh): each step's time, its FLOP bound at the best kernel's
# peak, the share of the step in the GEMM kernels, their packing, mtb's own elementwise code,
# and what the target leaves for everything that is not a matrix product. All figures are
# computed here from perf's samples and the benchmark's own output.
#
#   run_profile.sh [path/to/mtb]     BEST_GFLOPS=G (measured if unset), FREQ=2000 (Hz)
set -euo pipefail
cd "$(dirname "$0")/.."
MTB=${1:-bin/mtb}
FREQ=${FREQ:-2000}
export OPENBLAS_NUM_THREADS=1
if ! command -v perf > /dev/null || ! perf record -q -o /dev/null true 2> /dev/null; then
    echo "(perf is not available here, so no profile: apt-get install linux-perf, and allow it with"
    echo "sysctl kernel.perf_event_paranoid=2 or lower.)"
    exit 0
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mtb-prof.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
if [ -z "${BEST_GFLOPS:-}" ]; then
    BEST_GFLOPS=$("$MTB" --quiet bench step --tasks 2 --reps 1 | grep -o 'best_sgemm_gflops=[^ ]*' | cut -d= -f2)
fi

# leaves DATA: one line per sample, "leaf symbol<TAB>object" (the first frame of perf
# script's blank-line separated records; an inlined function's frame comes first, with
# "(inlined)" for its object)
leaves() {
    perf script -i "$1" -F ip,sym,dso 2> /dev/null | awk -v RS= -v FS='\n' '{
        leaf = $1; sub(/^[ \t]*[0-9a-f]+[ \t]+/, "", leaf); sub(/\+0x[0-9a-f]+/, "", leaf)
        dso = leaf; sub(/^[^(]*\(/, "", dso); sub(/\).*/, "", dso); sub(/.*\//, "", dso)
        sub(/[ \t]*\(.*/, "", leaf)
        print leaf "\t" dso
    }'
}

# record OUT DATA ARGS...: the benchmark under perf
record() {
    local out=$1 data=$2
    shift 2
    perf record -q -F "$FREQ" --call-graph dwarf,8192 -o "$data" "$MTB" --quiet bench step "$@" \
        --best-gflops "$BEST_GFLOPS" > "$out" 2> "$TMP/perf.err"
}

# profile LABEL TARGET REPS ARGS: one step configuration. The samples of a run with REPS
# steps minus those of the same run with one step are the samples of REPS - 1 steps: the
# start-up, the self-check, the model's set-up and the rate measurement cancel. (Unwinding
# through OpenBLAS's assembly stops early, so the call graph cannot tell which GEMM samples
# belong to the steps.)
profile() {
    local label=$1 target=$2 reps=$3 args=$4 out="$TMP/bench.txt"
    # shellcheck disable=SC2086 # args is a list of words
    record "$out" "$TMP/main.data" $args --reps "$reps"
    # shellcheck disable=SC2086
    record "$TMP/base.txt" "$TMP/base.data" $args --reps 1
    leaves "$TMP/main.data" > "$TMP/main.tsv"
    leaves "$TMP/base.data" > "$TMP/base.tsv"
    local ms bound gflop kernel
    ms=$(grep -o 'ms_per_step=[^ ]*' "$out" | cut -d= -f2)
    bound=$(grep -o 'best_bound_ms=[^ ]*' "$out" | cut -d= -f2)
    gflop=$(grep -o 'step_gflop=[^ ]*' "$out" | cut -d= -f2)
    kernel=$(sed -n 's/^# blas: .* kernel=\([^ ]*\).*/\1/p' "$out")
    echo "### $label"
    echo
    awk -F'\t' -v ms="$ms" -v bound="$bound" -v gflop="$gflop" -v target="$target" -v k="$kernel" \
        -v peak="$BEST_GFLOPS" -v args="$args" -v reps="$reps" -v freq="$FREQ" '
        function category(s, d) {
            if (s ~ /gemm_kernel|gemm_small_kernel|syrk_kernel/) return "GEMM micro-kernels (OpenBLAS)"
            if (s ~ /(it|in|ot|on)copy|_beta/) return "GEMM packing and C scaling (OpenBLAS)"
            if (d ~ /openblas/) return "other OpenBLAS (GEMV, level 1, drivers)"
            if (d ~ /^libc/ || s ~ /^__mem(cpy|move|set)/) return "memcpy / memset (libc)"
            if (d ~ /^libm/) return "libm"
            if (d ~ /kallsyms|vmlinux/) return "operating system"
            if (d ~ /^ld-linux/) return "dynamic loader"
            return "mtb: " s
        }
        FNR == 1 { file++ }
        { x = category($1, $2); if (file == 1) c[x]++; else c[x]-- }
        END {
            for (x in c) if (c[x] > 0) n += c[x]
            if (n == 0) { print "(perf recorded no samples of the steps)"; exit }
            printf "`mtb bench step %s --reps %d` on %s: %.3f ms per step (median), FLOP bound %.3f ms at the peak %s GFLOP/s, ratio %.2f", args, reps, k, ms, bound, peak, ms / bound
            if (target != "-") printf " (target %s×)", target
            printf ". "
            cms = 1000 * n / freq / (reps - 1)
            printf "%d samples left after subtracting a one-step run: %.3f ms of CPU time per step (the median wall time is %.3f ms; more means the process waited for a shared CPU). The shares below are of the CPU time.\n\n", n, cms, ms
            print "| where (leaf function of the sample) | share of the step | CPU ms per step |"
            print "|---|---|---|"
            m = 0
            for (x in c) if (c[x] > 0) order[++m] = x
            for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (c[order[j]] > c[order[i]]) { t = order[i]; order[i] = order[j]; order[j] = t }
            for (i = 1; i <= m; i++) {
                if (c[order[i]] / n < 0.005) { rest += c[order[i]]; continue }
                printf "| %s | %.1f %% | %.3f |\n", order[i], 100 * c[order[i]] / n, cms * c[order[i]] / n
            }
            if (rest) printf "| everything under 0.5 %% each | %.1f %% | %.3f |\n", 100 * rest / n, cms * rest / n
            g = 0
            if (c["GEMM micro-kernels (OpenBLAS)"] > 0) g += c["GEMM micro-kernels (OpenBLAS)"]
            if (c["GEMM packing and C scaling (OpenBLAS)"] > 0) g += c["GEMM packing and C scaling (OpenBLAS)"]
            gms = cms * g / n
            if (gms > 0)
                printf "\nThe matrix products (micro-kernels and packing) take %.3f ms of the step: %.0f GFLOP/s over the step'"'"'s %.4f GFLOP, %.0f %% of the peak. ", gms, gflop / (gms * 1e-3), gflop, 100 * gflop / (gms * 1e-3) / peak
            printf "Everything else takes %.3f ms. ", cms - gms
            budget = target * bound
            if (target == "-") printf "\n"
            else if (cms <= budget) printf "The step meets its target (%.3f ms allowed).\n", budget
            else if (budget > gms) printf "The target allows %.3f ms per step: with the products as they run now, everything else would have to fit in %.3f ms, %.1f× less than now.\n", budget, budget - gms, (cms - gms) / (budget - gms)
            else printf "The target allows %.3f ms per step, less than the products alone take now: they would have to run nearer the peak as well.\n", budget
        }' "$TMP/main.tsv" "$TMP/base.tsv"
    echo
    echo "$ms $bound" > "$TMP/last.txt"
}

echo "Profiled on the kernel the benchmarks ran on, one BLAS thread, \`perf record\` at $FREQ Hz; each"
echo "sample is charged to the function it was in (its leaf), and a one-step run's samples are"
echo "subtracted so that only the steps count."
echo
profile "EW step, MTRRegression-10, batch 304" 1.2 800 "--shape mtr --tasks 10 --grads none"
profile "parameter-gradient step, T = 128, mtr shape, batch 304" 1.5 20 "--shape mtr --tasks 128 --grads param"

# The loss-only target (within 1.2x of EW's step) is missed worst by FAMO, at large T on the
# mtr shape: its step and EW's at T = 128, profiled the same way, and the difference computed.
profile "EW step, T = 128, mtr shape, batch 304 (for the loss-only target)" - 200 "--shape mtr --tasks 128 --grads none"
read -r ew_ms ew_bound < "$TMP/last.txt"
profile "FAMO step, T = 128, mtr shape, batch 304" - 200 "--shape mtr --tasks 128 --method famo"
read -r famo_ms famo_bound < "$TMP/last.txt"
awk -v em="$ew_ms" -v eb="$ew_bound" -v fm="$famo_ms" -v fb="$famo_bound" 'BEGIN {
    extra = (fb - eb) / eb
    printf "FAMO over EW at T = 128: %.2f× the time for %.2f× the matrix-product FLOPs. FAMO evaluates the batch again at the updated parameters (a second forward pass and its losses), so its step is EW'"'"'s plus that pass. The loss-only target, 1.2× EW, leaves the pass 20 %% of EW'"'"'s step; its products alone are %.0f %% of EW'"'"'s FLOPs", fm / em, fb / eb, 100 * extra
    if (extra > 0.2) printf ", so at EW'"'"'s own efficiency FAMO cannot meet the target: at best it takes %.2f× EW.", 1 + extra
    else printf "."
    over = fm / em - (1 + extra)
    if (over < 0.05) printf " FAMO runs at EW'"'"'s own efficiency: the difference is the second pass'"'"'s products (%.2f× EW above them).\n\n", over
    else printf " The time above that, %.2f× EW, is in the two tables.\n\n", over
}'
