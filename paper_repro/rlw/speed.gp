# speed.gp: R6, the task-mean test metric against updates, seed mean, one line per method.
# Vars: dat, ttl.
set termoption noenhanced
set key autotitle columnhead outside right
set xlabel 'updates'
set ylabel 'test metric (task mean)'
set title ttl
plot for [i=2:*] dat using 1:i with linespoints pt 7 ps 0.6 lw 2
