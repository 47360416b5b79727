# toy2d.gp: I12, Toy2D trajectories of every method at one loss scale k. Inputs: dir (the
# results folder), k ("0.1", "1", "10"). Files: dir/toy_<method>_k<k>.dat (one block per
# start, x1 x2 every 100 steps), dir/toy_grid.dat (f_1 + f_2 on a grid).
methods = "ew mgda pcgrad cagrad imtl-g nash-mtl aligned-mtl db-mtl log-ew gls uw imtl-l rlw"
set contour base
set cntrparam levels 12
unset surface
set view map
set table dir."/toy_contour_k".k.".tmp"
splot dir."/toy_grid.dat" using 1:2:3 with lines notitle
unset table
set multiplot layout 4,4 title "Toy2D, l_1 x ".k.": trajectories from 5 starts; Pareto set in black"
set xrange [-10:10]
set yrange [-10:10]
set size square
unset key
set tics font ",7"
set arrow 1 from -7,-8.38 to 7,-8.38 nohead lw 3 lc rgb "black" front
do for [i=1:words(methods)] {
    m = word(methods, i)
    set title m font ",9"
    plot dir."/toy_contour_k".k.".tmp" using 1:2 with lines lc rgb "#bbbbbb", \
         for [s=0:4] dir."/toy_".m."_k".k.".dat" index s using 1:2 with lines lw 1.5
}
unset multiplot
