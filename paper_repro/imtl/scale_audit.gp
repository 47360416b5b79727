# scale_audit.gp: I10 step 2, the change of each task's final metric when task 5's loss is
# multiplied by 10, in units of the x1 seed std, per method (sorted by the mean change).
# Input: dat (audit_train.dat: rank, "method", |dM_t|/std for t = 1..6, ulp floor of t5 / std).
set logscale y
set yrange [1e-3:1e3]
set ylabel "|mean ΔM_t| / seed std of the x1 runs"
set xtics rotate by -40 nomirror font ",9"
set key outside right
set grid ytics
set title "LSD-6, task 5 (CE) loss x10: change of each task's metric (Adam)"
plot for [t=1:6] dat using 1:(column(t+2) > 0 ? column(t+2) : 1e-3):xtic(2) with points pt (t+4) ps 1.2 title sprintf("t%d", t), \
     dat using 1:9 with linespoints dt 2 lc rgb "black" pt 0 title "ulp floor (t5)"
