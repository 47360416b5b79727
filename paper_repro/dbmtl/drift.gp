# drift.gp: D9, GLS's common factor Lbar/T along a log-ew run over its trailing RMS (window
# 1 000 steps, a quarter of a shorter run), log y; one line per problem. Vars: dat, n.
set termoption noenhanced
set logscale y
set xlabel 'step'
set ylabel '(Lbar/T) / trailing RMS'
plot for [i=0:n-1] dat index i using 1:3 with lines lw 2 title columnheader(1)
