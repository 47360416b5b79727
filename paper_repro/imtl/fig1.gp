# fig1.gp: I8, normalised projections p_t / max p of each method on the Fig. 1
# configurations A (norms 2, 3, 1) and B (0.5, 1, 3). Input: dat (fig1.dat: index, "label",
# A p1 p2 p3, B p1 p2 p3). repro_plot sets the terminal and the output.
set multiplot layout 2,1 title "IMTL Fig. 1: projection of the aggregated gradient on each task"
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set yrange [0:1.1]
set ylabel "p_t / max p"
set xtics rotate by -25 nomirror
set key outside right
set title "config A: norms (2, 3, 1), task 2 central and largest"
plot dat using 3:xtic(2) title "task 1", '' using 4 title "task 2", '' using 5 title "task 3"
set title "config B: norms (0.5, 1, 3): smallest 1, central 2, largest 3"
plot dat using 6:xtic(2) title "task 1", '' using 7 title "task 2", '' using 8 title "task 3"
unset multiplot
