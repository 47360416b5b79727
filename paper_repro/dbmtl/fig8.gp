# fig8.gp: D10 (Fig. 8a), the batch training loss of each task on LSD-CE3 (Adam), seed means
# of EW and DB-MTL, log y. Vars: dat (step, ew t1..t3, db t1..t3).
set termoption noenhanced
set multiplot layout 1, 3
set logscale y
set xlabel 'step'
set ylabel 'training loss'
do for [t=1:3] {
    set title sprintf('task %d', t)
    plot dat using 1:(column(1 + t)) with lines lw 2 title 'ew', \
         dat using 1:(column(4 + t)) with lines lw 2 title 'db-mtl'
}
unset multiplot
