# noise.gp: R4, density of cos(xi_FW, (lambda~ - mu)^T g) for the normal weights, one line per
# point. Vars: dat.
set termoption noenhanced
set key autotitle columnhead
set xlabel 'cosine'
set ylabel 'density'
set xrange [-1:1]
plot for [i=2:4] dat using 1:i with linespoints lw 2
