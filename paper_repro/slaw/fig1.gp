# fig1.gp: SLAW Figure 1, mean loss weight error over the first steps (spec sec. 5.2).
# Drawn by repro_plot (paper_repro/common/lib.sh) at size 900,560, as PNG and SVG; variables
# mtb (bin/mtb) and sum (the summary.h5 of a run).
# Columns of /fig1/lwe: step, constant, ideal, uw, gradnorm, dwa, slaw.
data = "< ".mtb." export ".sum." /fig1/lwe"
set title "Loss weight error on MTRRegression (mean over seeds)"
set xlabel "training step"
set ylabel "LWE = mean_i (w_i - w*_i)^2"
set key top right
set grid
plot data using 1:2 with lines lw 2 dt 2 lc rgb "#888888" title "Constant", \
     data using 1:5 with lines lw 2 lc rgb "#1f77b4" title "GradNorm", \
     data using 1:6 with lines lw 2 lc rgb "#2ca02c" title "DWA", \
     data using 1:7 with lines lw 2 lc rgb "#d62728" title "SLAW", \
     data using 1:4 with lines lw 1 lc rgb "#9467bd" title "Uncertainty", \
     data using 1:3 with lines lw 1 dt 3 lc rgb "#000000" title "IdealConstant"
