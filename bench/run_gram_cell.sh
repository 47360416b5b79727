#!/usr/bin/env bash
# run_gram_cell.sh [MTB]: the Gram path's section of bench/README.md (make_readme.sh runs it).
# MGDA and IMTL-G (level=param) on the pcba shape with `mtb bench step --gram`: one step each
# (a step at T = 1024 takes minutes), its peak resident memory (getrusage, as the benchmark
# prints it) next to what the Jacobian path would allocate for G. Markdown on stdout.
#   BENCH_FULL=1    T = 1024 (default 128)
#   GRAM_TASKS=T    any other T
set -euo pipefail
MTB=${1:-bin/mtb}
if [ "${BENCH_FULL:-0}" = 1 ]; then T_DEF=1024; else T_DEF=128; fi
T=${GRAM_TASKS:-$T_DEF}
value() { grep -o "\<$1=[^ ]*" "$2" | tail -1 | cut -d= -f2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mtb-gram.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mem_gb=$(awk '/^MemTotal:/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)
echo "One step of \`mtb bench step --shape pcba --gram\` at T = $T, on a machine with $mem_gb GB of memory:"
echo
echo "| method | T | trunk parameters P | ms per step | Gram dsyrk, GFLOP | peak RSS, MB | G on the Jacobian path, GB |"
echo "|---|---|---|---|---|---|---|"
for spec in "mgda:" "imtl_g:level=param"; do
    m=${spec%%:*} o=${spec#*:}
    "$MTB" bench step --shape pcba --tasks "$T" --method "$m" ${o:+--options "$o"} --gram \
        --reps 1 --warmup 0 --best-gflops 0 > "$tmp/out.txt"
    P=$(sed -n 's/.*(trunk \([0-9]*\)).*/\1/p' "$tmp/out.txt")
    echo "| $m${o:+ ($o)} | $T | $P | $(value ms_per_step "$tmp/out.txt") |" \
         "$(value gram_syrk_gflop "$tmp/out.txt") | $(value peak_rss_mb "$tmp/out.txt") |" \
         "$(value jacobian_path_gb "$tmp/out.txt") |"
done
