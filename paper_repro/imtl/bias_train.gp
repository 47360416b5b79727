# bias_train.gp: I8 in training, LSD-6: each task's Delta-p against STL (seed mean) against
# log10 of its median gradient norm at the initial EW state, one line per method. Inputs: dat
# (bias_train.dat: one block per method, its first line "x name"), n (the number of blocks).
set termoption noenhanced
set key outside right autotitle columnheader
set xlabel "log10 median |g_t| (EW, step 0)"
set ylabel "per-task Δp vs STL (%)"
set grid
set title "LSD-6: which tasks each method favours (spec I8: MGDA slope < 0, EW and PCGrad > 0)"
plot for [i=0:n-1] dat index i using 1:2 with linespoints lw 1.5 pt (i % 10 + 1)
