# thm3.gp: R3, k E||theta_k - theta*||^2 against k, one panel per alpha (in units of 1/c_mu).
# Dashed: the bound Q of Theorem 3 with RLW-normal's kappa (none for alpha <= 1/(2c)).
# Vars: dir (the folder of thm3_a*.dat).
set termoption noenhanced
set key autotitle columnhead top left
set logscale xy
set xlabel 'k'
set ylabel 'k E||e_k||^2'
set multiplot layout 2,2
do for [a in "0.25 0.6 1 2"] {
    set title sprintf('alpha = %s / c_mu', a)
    f = sprintf('%s/thm3_a%s.dat', dir, a)
    plot for [i=2:5] f using 1:i with linespoints pt 7 ps 0.5 lw 2, \
         f using 1:6 with lines dt 2 lc rgb 'black' lw 2
}
unset multiplot
