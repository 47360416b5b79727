# fig8.gp: D10 (Fig. 8), a per-task quantity on LSD-CE3 (Adam) for EW and DB-MTL, log y: the
# batch training loss (8a, seed means) or ||grad l_t||^2 (8b, seed 0). Vars: dat (step,
# ew t1..t3, db t1..t3), ylab.
set termoption noenhanced
set multiplot layout 1, 3
set logscale y
set xlabel 'step'
set ylabel ylab
do for [t=1:3] {
    set title sprintf('task %d', t)
    plot dat using 1:(column(1 + t)) with lines lw 2 title 'ew', \
         dat using 1:(column(4 + t)) with lines lw 2 title 'db-mtl'
}
unset multiplot
