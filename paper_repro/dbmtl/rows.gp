# rows.gp: one experiment's rows (x) against Delta-p_STL (y, seed mean with 95 % t-interval
# whiskers), one marker set per problem/optimiser (the data's index blocks, each headed by its
# name). Vars: dat, ttl, n (blocks).
set termoption noenhanced
set title ttl
set ylabel 'Delta-p vs STL (%)'
set xtics rotate by -35 font ',9'
set xzeroaxis
set key outside right top
set offsets 0.4, 0.4, 0, 0
plot for [i=0:n-1] dat index i using ($2 + 0.08*i):3:4:xtic(5) with yerrorbars pt 7 ps 1.2 \
     title columnheader(1)
