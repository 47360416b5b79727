# fig3.gp: SLAW Appendix B, Figure 3: SLAW's weight (Eq. 48) against the weight from true
# gradient norms (Eq. 47), one point per independent run, coloured by task (spec sec. 5.3).
# Four panels: the authors' protocol (constant training, last shared layer), SLAW training,
# and both with the gradient of all shared parameters. Columns: x, y, task (1..10).
# the correlations first, on linear axes (stats honours log axes and ranges)
array R[4]
array N[4]
i = 0
do for [p in "constant_last slaw_last constant_all slaw_all"] {
    i = i + 1
    stats "< ".mtb." export ".sum." /appb/".p using (log($1)):(log($2)) nooutput
    R[i] = STATS_correlation
    N[i] = STATS_records
}
set multiplot layout 2,2
set logscale xy 2
set format x "2^{%L}"; set format y "2^{%L}"
set xrange [1.0/64:16]; set yrange [1.0/64:16]
set size ratio -1
set xlabel "weight from true gradient norms (Eq. 47)"
set ylabel "SLAW weight (Eq. 48)"
# one colour and marker per task (linetypes 1..10), with a key entry per task
array COL[10] = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
do for [k = 1:10] { set linetype k lc rgb COL[k] pt (k % 2 ? 7 : 5) ps 0.9 }
set key bottom right spacing 0.9 font ",8"
set grid
array LABEL[4] = ["(a) constant training, last shared layer (authors' protocol)", "(b) SLAW training, last shared layer", "(c) constant training, all shared parameters", "(d) SLAW training, all shared parameters"]
i = 0
do for [p in "constant_last slaw_last constant_all slaw_all"] {
    i = i + 1
    d = "< ".mtb." export ".sum." /appb/".p
    set title sprintf("%s\nr(log x, log y) = %.3f, n = %d", LABEL[i], R[i], N[i]) noenhanced
    plot d using 1:2:3 with points pt 7 lc variable notitle, x with lines lc rgb "#000000" dt 2 title "y = x", \
         for [k = 1:10] keyentry with points lt k pt 7 title sprintf("task %d", k)
}
unset multiplot
