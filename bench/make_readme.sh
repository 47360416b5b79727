#!/usr/bin/env bash
# make_readme.sh: regenerates bench/README.md (what `make bench` runs). Every number, and
# every line about the machine, the BLAS kernel and the code version, is written here from
# what the benchmarks print; the prose around them is bench/README.in, whose lines
# "@@NAME@@" are replaced by the sections below.
#
#   MTB=bin/mtb           the binary
#   OUT=bench/README.md   the report (written under a temporary name, then renamed)
#   BLAS_KERNEL=auto      the kernel the benchmarks run on: auto = the best this CPU supports
#                         that passes the self-check (the issue's targets are stated there),
#                         env = whatever the environment gives (OPENBLAS_CORETYPE), or a name
#   BENCH_FULL=1          the full task grid of the per-step sweep (T to 128, loss-only to
#                         1024) instead of the reduced default
#   SKIP=weigh,sweep,...  sections to leave out while developing (the report says so)
set -euo pipefail
cd "$(dirname "$0")/.."
MTB=${MTB:-bin/mtb}
OUT=${OUT:-bench/README.md}
BLAS_KERNEL=${BLAS_KERNEL:-auto}
SKIP=${SKIP:-}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mtb-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export OPENBLAS_NUM_THREADS=1
t_start=$(date +%s)
ENV_CORETYPE=${OPENBLAS_CORETYPE:-unset}

# Every benchmark runs on the chosen kernel; the start-up note goes to the log, not the report.
if [ "$BLAS_KERNEL" = env ]; then unset MTB_BLAS_KERNEL; else export MTB_BLAS_KERNEL=$BLAS_KERNEL; fi
mtb() { "$MTB" "$@" 2>> "$TMP/stderr.log"; }
skipped() { case ",$SKIP," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
# log MESSAGE: progress on stderr; each call also closes the previous section's timing
t_section=$(date +%s) section=""
log() {
    local now
    now=$(date +%s)
    [ -z "$section" ] || echo "| $section | $((now - t_section)) |" >> "$TMP/sections.md"
    section=$1 t_section=$now
    echo "make_readme: $*" >&2
}
# value KEY FILE: the value of KEY=... on the last line that has it
value() { grep -o "\<$1=[^ ]*" "$2" | tail -1 | cut -d= -f2; }
# kernel_of FILE: the kernel a benchmark ran on, from its "# blas:" line
kernel_of() { sed -n 's/^# blas: .* kernel=\([^ ]*\).*/\1/p' "$1" | tail -1; }

# ---- the machine and its kernels --------------------------------------------------------
log "sgemm peak on the kernels (mtb bench peak)"
mtb bench peak > "$TMP/peak_best.txt"
(unset MTB_BLAS_KERNEL; "$MTB" --quiet bench peak > "$TMP/peak_env.txt" 2>> "$TMP/stderr.log")
PEAK=$(value peak_gflops "$TMP/peak_best.txt")
# From here on every program starts on that kernel directly (the request and the variable
# agree, so none re-executes itself); each still runs its self-check.
if [ "$BLAS_KERNEL" != env ]; then
    BEST_K=$(value kernel "$TMP/peak_best.txt")
    export MTB_BLAS_KERNEL=$BEST_K OPENBLAS_CORETYPE=$BEST_K
fi
{
    echo '```'
    grep '^# ' "$TMP/peak_best.txt" | grep -v '^# code:'
    echo '```'
    echo
    echo "| kernel | why it ran | self-check | sgemm peak, GFLOP/s, 1 thread | per shape (M×N×K: GFLOP/s) |"
    echo "|---|---|---|---|---|"
    for f in env best; do
        p="$TMP/peak_$f.txt"
        shapes=$(awk '/^sgemm / { sub("gflops=", "", $3); printf "%s%s: %s", n++ ? ", " : "", $2, $3 }' "$p")
        choice=$(sed -n 's/^# blas_kernel_choice: //p' "$p")
        echo "| $(value kernel "$p") | $choice | $(value selfcheck "$p") | $(value peak_gflops "$p") | $shapes |"
    done
    echo
    echo "The first row is the kernel this environment gives a program that does not choose (here"
    echo "OPENBLAS_CORETYPE=$ENV_CORETYPE); the second the one the benchmarks below ran on"
    echo "(BLAS_KERNEL=$BLAS_KERNEL). Self-check: $(sed -n 's/^selfcheck: //p' "$TMP/peak_best.txt")."
} > "$TMP/machine.md"

# ---- a training step against its FLOP bound ---------------------------------------------
# step LABEL ARGS [TORCH_ARGS]: one table row; also keeps the raw output for the targets
torch_ok=0
/usr/bin/python3 -c 'import torch' 2> /dev/null && torch_ok=1
row=0
step() {
    row=$((row + 1))
    local f="$TMP/step$row.txt" t="n/a"
    # shellcheck disable=SC2086 # the arguments are lists of words
    mtb bench step $2 --best-gflops "$PEAK" > "$f"
    if [ "${3:-}" ] && [ $torch_ok = 1 ]; then
        # shellcheck disable=SC2086
        t=$(/usr/bin/python3 bench/pytorch_step.py $3 --threads 1 | sed -n 's/^ms_per_step=//p')
    fi
    awk -v l="$1" -v t="$t" -v ms="$(value ms_per_step "$f")" -v fb="$(value flop_bound_ms "$f")" \
        -v bb="$(value best_bound_ms "$f")" -v k="$(kernel_of "$f")" 'BEGIN {
        printf "| %s | %s | %.3f | %.3f | %.2f | %.3f | %.2f | %s |\n", l, k, ms, fb, ms / fb, bb, ms / bb, t }'
}
if ! skipped step; then
    log "training step table (mtb bench step)"
    {
        echo "| step | kernel | mtb ms | FLOP bound ms (this run's 1024³ rate) | ratio | FLOP bound ms (best kernel's peak) | ratio | PyTorch ms |"
        echo "|---|---|---|---|---|---|---|---|"
        step "mtr, T=10, B=304, EW (no task gradients)" "--shape mtr --tasks 10 --grads none --reps 100" "--tasks 10 --grads none --reps 100"
        step "mtr, T=10, B=304, REP task gradients" "--shape mtr --tasks 10 --grads rep --reps 100"
        step "mtr, T=10, B=304, PARAM task gradients" "--shape mtr --tasks 10 --grads param --reps 50" "--tasks 10 --grads param --reps 30"
        step "mtr, T=128, B=304, PARAM task gradients" "--shape mtr --tasks 128 --grads param --reps 10" "--tasks 128 --grads param --reps 5"
        step "pcba, T=32, B=1024, EW" "--shape pcba --tasks 32 --batch 1024 --grads none --reps 10"
        step "pcba, T=32, B=1024, PARAM task gradients" "--shape pcba --tasks 32 --batch 1024 --grads param --reps 3"
        [ $torch_ok = 1 ] || { echo; echo "(PyTorch column: Debian's python3-torch is not installed on this machine.)"; }
    } > "$TMP/step.md"
    # the issue's targets against the best kernel's bound: the EW row (1) and T = 128 (4).
    # The median is the figure; the fastest step is the one a busy neighbour disturbed least.
    target() { # ROW LABEL TARGET
        local f="$TMP/step$1.txt"
        awk -v ms="$(value ms_per_step "$f")" -v mn="$(value min_ms "$f")" -v b="$(value best_bound_ms "$f")" \
            -v l="$2" -v t="$3" 'BEGIN {
            r = ms / b
            printf "| %s | %.2f× | %.2f× | %.1f× | %s |\n", l, r, mn / b, t,
                   r <= t ? "met" : sprintf("missed by %.0f %%", 100 * (r / t - 1)) }'
    }
    {
        echo "| step | median step / FLOP bound at the best kernel's peak | fastest step / bound | target | verdict (median) |"
        echo "|---|---|---|---|---|"
        target 1 "EW, MTRRegression-10, batch 304" 1.2
        target 4 "parameter-level gradients, T = 128" 1.5
    } > "$TMP/targets.md"
else
    echo "(skipped in this run: SKIP=$SKIP)" > "$TMP/step.md"
    cp "$TMP/step.md" "$TMP/targets.md"
fi

# ---- the weighting computation alone ----------------------------------------------------
if ! skipped weigh; then
    log "weighting table (mtb bench weigh, every method)"
    bench/run_weigh_table.sh "$MTB" > "$TMP/weigh.md" 2>> "$TMP/stderr.log"
else
    echo "(skipped in this run: SKIP=$SKIP)" > "$TMP/weigh.md"
fi

# ---- per-step cost against the task count -----------------------------------------------
if ! skipped tasks && [ -x bench/run_task_sweep.sh ]; then
    log "per-step cost against T (bench/run_task_sweep.sh)"
    BEST_GFLOPS=$PEAK BENCH_FULL=${BENCH_FULL:-0} OUTDIR=bench bench/run_task_sweep.sh "$MTB" > "$TMP/tasks.md" 2>> "$TMP/stderr.log"
else
    echo "(not run: SKIP=$SKIP)" > "$TMP/tasks.md"
fi

# ---- where the time goes -----------------------------------------------------------------
if ! skipped profile && [ -x bench/run_profile.sh ]; then
    log "profiles (bench/run_profile.sh)"
    bench/run_profile.sh "$MTB" > "$TMP/profile.md" 2>> "$TMP/stderr.log"
else
    echo "(not run: SKIP=$SKIP)" > "$TMP/profile.md"
fi

# ---- many tasks without the Jacobian --------------------------------------------------------
if ! skipped gram && [ -x bench/run_gram_cell.sh ]; then
    log "the Gram path at many tasks (bench/run_gram_cell.sh)"
    BENCH_FULL=${BENCH_FULL:-0} bench/run_gram_cell.sh "$MTB" > "$TMP/gram.md" 2>> "$TMP/stderr.log"
else
    echo "(not run: SKIP=$SKIP)" > "$TMP/gram.md"
fi

# ---- the sweep machinery ------------------------------------------------------------------
if ! skipped sweep; then
    log "sweep machinery (bench/run_sweep_bench.sh)"
    { echo '```'; MTB=$MTB OUT="$TMP/sweep" bench/run_sweep_bench.sh 2>> "$TMP/stderr.log"; echo '```'; } > "$TMP/sweep.md"
else
    echo "(skipped in this run: SKIP=$SKIP)" > "$TMP/sweep.md"
fi

# ---- when, on what --------------------------------------------------------------------------
log "report"
wall=$(( $(date +%s) - t_start ))
{
    echo "Generated by \`make bench\` (bench/make_readme.sh) on $(date -u +%Y-%m-%dT%H:%M:%SZ) in ${wall} s,"
    echo "code $(sed -n 's/^# code: \([^ ]*\).*/\1/p' "$TMP/peak_best.txt"), with one BLAS thread, on $(nproc) CPUs"
    echo "($(uptime | sed 's/.*load average/load average/') when it finished: timings scatter when other work shares the machine)."
    echo
    echo "| section of \`make bench\` | seconds |"
    echo "|---|---|"
    cat "$TMP/sections.md"
} > "$TMP/when.md"

awk -v dir="$TMP" '
    /^@@[a-z_]+@@$/ {
        f = dir "/" substr($0, 3, length($0) - 4) ".md"
        while ((getline line < f) > 0) print line
        close(f)
        next
    }
    { print }' bench/README.in > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
log "wrote $OUT in ${wall} s"
