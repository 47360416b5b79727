# pcgrad_bias.gp: I6, PCGrad's projection ratio p_1/p_2 against r = |g_1|/|g_2| for two tasks
# at angle phi. Input: dat (pcgrad_bias.dat: r, ratio at 60, 100, 150 degrees).
set logscale xy
set xlabel "r = |g_1| / |g_2|"
set ylabel "p_1 / p_2"
set key left top
set grid
set title "PCGrad favours the larger gradient (conflict: p_1/p_2 = r)"
plot dat using 1:2 with lines lw 2 title "phi = 60 deg (no conflict)", \
     dat using 1:3 with lines lw 2 title "phi = 100 deg", \
     dat using 1:4 with points pt 7 ps 0.6 title "phi = 150 deg", \
     x with lines dt 2 lc rgb "black" title "y = r"
