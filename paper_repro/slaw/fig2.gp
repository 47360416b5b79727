# fig2.gp: SLAW Figure 2, time per training step against the number of tasks on the PCBA
# shape (spec sec. 5.4). Columns of /fig2/ms: T, Constant, SLAW, GradNorm, PCGrad (ms).
d = "< ".mtb." export ".sum." /fig2/ms"
set title "Time per training step, PCBA shape"
set xlabel "number of tasks T"
set ylabel "ms per step (median)"
set logscale y
set key top left
set grid
plot d using 1:2 with linespoints lw 2 pt 7 title "Constant", \
     d using 1:3 with linespoints lw 2 pt 5 title "SLAW", \
     d using 1:4 with linespoints lw 2 pt 9 title "GradNorm", \
     d using 1:5 with linespoints lw 2 pt 11 title "PCGrad"
