# scatter.gp: the Pareto-MTL picture of MultiFashion (spec multifashion.md sec. 4): accuracy of
# the top-left task against the bottom-right task, per method (seed mean, 95 % intervals as
# error bars), with the two STL accuracies as dashed lines. Variables: dat (OUT/scatter.dat),
# stl_tl, stl_br (from OUT/scatter_vars.gp; NaN without STL runs).
set termoption noenhanced   # method names keep their underscores
set xlabel 'accuracy, top-left item (%)'
set ylabel 'accuracy, bottom-right item (%)'
set key off
set grid
set size ratio -1
if (stl_tl == stl_tl) set arrow 1 from first stl_tl, graph 0 to first stl_tl, graph 1 nohead dt 2 lc rgb '#666666'
if (stl_br == stl_br) set arrow 2 from graph 0, first stl_br to graph 1, first stl_br nohead dt 2 lc rgb '#666666'
plot dat using 3:5:4:6 with xyerrorbars pt 7 ps 0.8 lc rgb '#1f77b4', \
     dat using 3:5:2 with labels offset char 1,0.6 left font ',9'
