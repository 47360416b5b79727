#!/usr/bin/env bash
# run_gram_cell.sh [MTB]: the Gram path's section of bench/README.md (make_readme.sh runs it).
# `mtb bench step --shape pcba --gram`, one step per cell, its peak resident memory (getrusage,
# as the benchmark prints it) next to what the Jacobian path would allocate for G: MGDA and
# IMTL-G (level=param) at T = 128, and MGDA at T = 1024 (the issue's case: the Jacobian alone
# would be 35 GB in double; a step takes minutes). Markdown on stdout.
#   BENCH_FULL=1    also IMTL-G at T = 1024
#   GRAM_TASKS=T    both methods at this T only
set -euo pipefail
MTB=${1:-bin/mtb}
if [ -n "${GRAM_TASKS:-}" ]; then
    CELLS="mgda::$GRAM_TASKS imtl_g:level=param:$GRAM_TASKS"
elif [ "${BENCH_FULL:-0}" = 1 ]; then
    CELLS="mgda::128 imtl_g:level=param:128 mgda::1024 imtl_g:level=param:1024"
else
    CELLS="mgda::128 imtl_g:level=param:128 mgda::1024"
fi
value() { grep -o "\<$1=[^ ]*" "$2" | tail -1 | cut -d= -f2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mtb-gram.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mem_gb=$(awk '/^MemTotal:/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)
echo "One step of \`mtb bench step --shape pcba --gram\` per row, on a machine with $mem_gb GB of memory:"
echo
echo "| method | T | trunk parameters P | ms per step | Gram dsyrk, GFLOP | peak RSS, MB | G on the Jacobian path, GB |"
echo "|---|---|---|---|---|---|---|"
for cell in $CELLS; do
    m=${cell%%:*} rest=${cell#*:}
    o=${rest%:*} T=${rest##*:}
    "$MTB" bench step --shape pcba --tasks "$T" --method "$m" ${o:+--options "$o"} --gram \
        --reps 1 --warmup 0 --best-gflops 0 > "$tmp/out.txt"
    P=$(sed -n 's/.*(trunk \([0-9]*\)).*/\1/p' "$tmp/out.txt")
    echo "| $m${o:+ ($o)} | $T | $P | $(value ms_per_step "$tmp/out.txt") |" \
         "$(value gram_syrk_gflop "$tmp/out.txt") | $(value peak_rss_mb "$tmp/out.txt") |" \
         "$(value jacobian_path_gb "$tmp/out.txt") |"
done
