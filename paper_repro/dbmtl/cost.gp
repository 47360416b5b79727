# cost.gp: D11, step time relative to EW (log) against the number of tasks T (log2), one line
# per method. Vars: dat (T, then one column per method, headed by its name).
set termoption noenhanced
set logscale x 2
set logscale y
set xlabel 'tasks T'
set ylabel 'step time / EW step time'
set key outside right top font ',9'
plot for [i=2:*] dat using 1:i with linespoints title columnheader(i)
