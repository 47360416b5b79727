# lsd6.gp: R9, Delta-p against EW per method on LSD-6 (seed mean, 95 % t-interval whiskers).
# Vars: dat (index, label, mean, ci).
set termoption noenhanced
set style fill solid 0.6 border -1
set boxwidth 0.7
set ylabel 'Delta-p vs EW (%)'
set xtics rotate by -40 font ',9'
set xzeroaxis
set key off
plot dat using 1:3:4:xtic(2) with boxerrorbars lc rgb '#4477aa'
