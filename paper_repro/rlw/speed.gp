# speed.gp: R6, the task-mean test metric against updates, seed mean with its 95 % band,
# one colour per method. Columns: updates, then (mean, ci95) per method. Vars: dat, ttl.
set termoption noenhanced
set key outside right
set xlabel 'updates'
set ylabel 'test metric (task mean, seed mean ± 95 % CI)'
set title ttl
set style fill transparent solid 0.18 noborder
stats dat using 1 nooutput
n = int((STATS_columns - 1) / 2)
plot for [i=1:n] dat using 1:(column(2*i)-column(2*i+1)):(column(2*i)+column(2*i+1)) \
         with filledcurves lc i notitle, \
     for [i=1:n] dat using 1:2*i with linespoints pt 7 ps 0.5 lw 2 lc i title columnhead(2*i)
