# all.gp: D12, every method sorted by Delta-p_STL (seed mean, 95 % t-interval), one panel per
# problem (the data's index blocks, each headed by its name). Vars: dat, n (blocks).
set termoption noenhanced
set multiplot layout n, 1
set ylabel 'Delta-p vs STL (%)'
set xtics rotate by -60 font ',8'
set xzeroaxis
set key top right
set offsets 0.5, 0.5, 0, 0
do for [i=0:n-1] {
    plot dat index i using 2:3:4:xtic(5) with yerrorbars pt 7 ps 1 title columnheader(1)
}
unset multiplot
