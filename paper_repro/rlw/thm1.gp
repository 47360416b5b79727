# thm1.gp: R2, E||theta_k - theta*||^2 per method (solid), the paper's bound (dashed) and the
# sharper bound (dotted) for one (T, eta) at rho = 1, s = 1. Vars: dat, ttl.
set termoption noenhanced
set key autotitle columnhead outside right
set logscale y
set format y '10^{%L}'
set xlabel 'k'
set ylabel 'E||theta_k - theta*||^2'
set title ttl noenhanced
plot for [i=2:10] dat using 1:i with lines lw 2, \
     dat using 1:11 with lines dt 2 lc rgb 'black' lw 2, \
     dat using 1:12 with lines dt 3 lc rgb 'black' lw 2
