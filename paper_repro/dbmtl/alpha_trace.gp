# alpha_trace.gp: D3, alpha_k over its trailing RMS (what Adam sees) along an LSD-6 run (seed 0),
# one line per strategy, log y. Vars: dat (step, then one column per strategy, headed).
set termoption noenhanced
set logscale y
set xlabel 'step'
set ylabel 'alpha_k / trailing RMS'
set key outside right top
plot for [i=2:*] dat using 1:i with lines lw 1.5 title columnheader(i)
