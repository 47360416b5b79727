#!/bin/sh
# Regenerates the weighting-cost table of bench/README.md: microseconds per call of each
# method's weighting computation alone (mtb bench weigh), for T = 2..128 tasks and gradients
# of D = 10^3 and 10^5 columns, one BLAS thread. Loss-only methods ignore D.
# Usage: bench/run_weigh_table.sh [path/to/mtb] [methods...]
set -eu
MTB=${1:-bin/mtb}
shift 2>/dev/null || true
METHODS=${*:-$($MTB methods | awk 'NR > 1 { print $1 }')}
TS="2 4 8 16 32 64 128"
export OPENBLAS_NUM_THREADS=1
printf '| method | D |'; for T in $TS; do printf ' T=%s |' "$T"; done; echo
printf '|---|---|'; for T in $TS; do printf -- '---|'; done; echo
for m in $METHODS; do
    for D in 1000 100000; do
        printf '| %s | %s |' "$m" "$D"
        for T in $TS; do
            # fewer repetitions where one call takes long
            reps=50; [ "$D" -eq 100000 ] && reps=5
            us=$($MTB bench weigh --method "$m" --tasks "$T" --dim "$D" --reps $reps 2>/dev/null | tail -1 |
                 sed -n 's/^us_per_call=//p')
            [ -n "$us" ] || us="err"
            printf ' %s |' "$(echo "$us" | awk '{ if ($1 == "err") print "err"; else if ($1 < 10) printf "%.2f", $1; else printf "%.0f", $1 }')"
        done
        echo
    done
done
