# cost.gp: R8, median ms per training step against T, one line per method. Vars: dat, ttl.
set termoption noenhanced
set key autotitle columnhead top left
set logscale x 2
set logscale y
set title ttl
set xlabel 'T (tasks)'
set ylabel 'ms / step'
plot for [i=2:*] dat using 1:i with linespoints lw 2
