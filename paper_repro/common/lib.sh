# lib.sh: the shell side of the reproduction toolkit, sourced by paper_repro/<paper>/reproduce.
#
#   repro_init PAPER        checks SCALE (smoke | paper | full) and gnuplot, sets OUT to
#                           results/PAPER/SCALE, creates it, records the start time
#   repro_sweep ARGS...     `mtb sweep ... --scale $SCALE` with --jobs $JOBS (default: the
#                           number of cores), or under mpirun when MPIRUN is set (for example
#                           MPIRUN="mpirun -np 16 --hostfile hosts"), and --reuse results: a
#                           job that another reproduction's sweep already ran (same job,
#                           scale, code version and BLAS kernel) is linked, not retrained.
#                           REUSE=no trains every job here
#   repro_plot GP STEM SIZE VARS   one gnuplot script drawn twice, STEM.png and STEM.svg
#                           at SIZE ("900,560"), each written under a temporary name and
#                           renamed; VARS are gnuplot -e assignments. The script sets neither
#                           the terminal nor the output.
#   repro_elapsed           seconds since repro_init
# Environment: MTB (bin/mtb), SCALE, JOBS, MPIRUN, REUSE (yes | no).

repro_init() {
    REPRO_PAPER=$1
    MTB=${MTB:-bin/mtb}
    SCALE=${SCALE:-paper}
    case $SCALE in smoke|paper|full) ;;
        *) echo "reproduce-$REPRO_PAPER: SCALE must be smoke, paper or full, got '$SCALE'" >&2; exit 2 ;;
    esac
    command -v gnuplot >/dev/null || {
        echo "reproduce-$REPRO_PAPER: gnuplot not found (apt-get install gnuplot-nox)" >&2; exit 1; }
    OUT=results/$REPRO_PAPER/$SCALE
    mkdir -p "$OUT"
    REPRO_START=$(date +%s)
    echo "[$REPRO_PAPER] scale $SCALE: results in $OUT/"
}

repro_elapsed() {
    echo $(( $(date +%s) - REPRO_START ))
}

repro_sweep() {
    # every reproduction's sweeps live under results/ (OUT is results/PAPER/SCALE)
    reuse_root=$(dirname "$(dirname "$OUT")")
    [ "${REUSE:-yes}" = no ] || set -- --reuse "$reuse_root" "$@"
    if [ -n "${MPIRUN:-}" ]; then
        $MPIRUN "$MTB" sweep --scale "$SCALE" "$@"
    else
        "$MTB" sweep --scale "$SCALE" --jobs "${JOBS:-$(nproc)}" "$@"
    fi
}

repro_plot() {
    gp=$1; stem=$2; size=$3; vars=$4
    gnuplot -e "set terminal pngcairo size $size font ',11'; set output '$stem.png.tmp'; $vars" "$gp" &&
        mv "$stem.png.tmp" "$stem.png" &&
    gnuplot -e "set terminal svg size $size dynamic font 'Sans,11'; set output '$stem.svg.tmp'; $vars" "$gp" &&
        mv "$stem.svg.tmp" "$stem.svg"
}
