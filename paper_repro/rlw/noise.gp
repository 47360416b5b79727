# noise.gp: R4, density of cos(xi_FW, (lambda~ - mu)^T g) for the normal weights, one line per
# point (quadratics) or per problem and checkpoint (networks). Vars: dat.
set termoption noenhanced
set key autotitle columnhead
set xlabel 'cosine'
set ylabel 'density'
set xrange [-1:1]
plot for [i=2:*] dat using 1:i with linespoints lw 2
