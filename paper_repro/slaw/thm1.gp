# thm1.gp: SLAW Theorem 1, Var f(X) against |grad f(x0)|^2 for three radii delta, with the
# least-squares lines Var = K1 |grad|^2 + K2 (drawn on log axes). Columns of /thm1/<f>:
# |grad|^2, Var for delta_1..3; of /thm1/<f>_fit: the grid, the three fitted lines, and the
# three linear-theory lines delta^2/(d+2) |grad|^2 (dashed).
set multiplot layout 1,3
set logscale xy
set format x "10^{%L}"; set format y "10^{%L}"
set xlabel "|grad f(x_0)|^2"
set ylabel "Var f(X), X uniform in the ball"
set key top left noenhanced
set grid
do for [f in "quadratic tanhnet logistic"] {
    d = "< ".mtb." export ".sum." /thm1/".f
    l = "< ".mtb." export ".sum." /thm1/".f."_fit"
    set title f
    plot d using 1:2 with points pt 7 ps 0.6 lc 1 title "delta 1", l using 1:($2 > 0 ? $2 : 1/0) with lines lc 1 notitle, \
         d using 1:3 with points pt 5 ps 0.6 lc 2 title "delta 2", l using 1:($3 > 0 ? $3 : 1/0) with lines lc 2 notitle, \
         d using 1:4 with points pt 9 ps 0.6 lc 4 title "delta 3", l using 1:($4 > 0 ? $4 : 1/0) with lines lc 4 notitle, \
         l using 1:5 with lines dt 2 lc 1 notitle, l using 1:6 with lines dt 2 lc 2 notitle, \
         l using 1:7 with lines dt 2 lc 4 title "delta^2/(d+2) |grad|^2"
}
unset multiplot
