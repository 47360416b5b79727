#!/bin/sh
# Regenerates the step-cost table of bench/README.md: mtb's training step against its FLOP
# bound (one BLAS thread), and the same step in PyTorch when Debian's python3-torch is there.
# Usage: bench/run_step_table.sh [path/to/mtb]
set -eu
MTB=${1:-bin/mtb}
row() { # label, mtb args, torch args (or -)
    m=$($MTB bench step $2 | tail -1)
    ms=$(echo "$m" | sed 's/.*ms_per_step=\([0-9.]*\).*/\1/')
    fb=$(echo "$m" | sed 's/.*flop_bound_ms=\([0-9.]*\).*/\1/')
    t="n/a"
    if [ "$3" != "-" ] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then
        t=$(/usr/bin/python3 "$(dirname "$0")/pytorch_step.py" $3 | tail -1 | sed 's/ms_per_step=//')
    fi
    ratio=$(awk -v a="$ms" -v b="$fb" 'BEGIN { printf "%.2f", a / b }')
    echo "| $1 | $ms | $fb | $ratio | $t |"
}
echo "| step | mtb ms | FLOP bound ms | ratio | PyTorch ms |"
echo "|---|---|---|---|---|"
row "mtr, T=10, B=304, EW (no task gradients)" "--shape mtr --tasks 10 --grads none --reps 100" "--tasks 10 --grads none --reps 100"
row "mtr, T=10, B=304, REP task gradients" "--shape mtr --tasks 10 --grads rep --reps 100" "-"
row "mtr, T=10, B=304, PARAM task gradients" "--shape mtr --tasks 10 --grads param --reps 50" "--tasks 10 --grads param --reps 30"
row "mtr, T=128, B=304, PARAM task gradients" "--shape mtr --tasks 128 --grads param --reps 10" "--tasks 128 --grads param --reps 5"
row "pcba, T=32, B=1024, EW" "--shape pcba --tasks 32 --batch 1024 --grads none --reps 10" "-"
row "pcba, T=32, B=1024, PARAM task gradients" "--shape pcba --tasks 32 --batch 1024 --grads param --reps 3" "-"
