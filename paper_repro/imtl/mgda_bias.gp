# mgda_bias.gp: I5, projection p_t against |g_t| on GE(5, 50) for MGDA-UB (closed form) and
# constrained MGDA. Input: dat (mgda_bias.dat: log10 |g_t|, log10 p_t MGDA-UB, log10 p_t MGDA).
set xlabel "log10 |g_t|"
set ylabel "log10 p_t"
set key left bottom
set grid
set title "MGDA's projections fall with the gradient norm (MGDA-UB: p_t = |g|^2/|g_t|)"
plot dat using 1:2 with points pt 7 ps 0.4 title "MGDA-UB", \
     dat using 1:3 with points pt 6 ps 0.5 title "MGDA (alpha >= 0)"
