# s_trace.gp: D6, IMTL-L's s_3 and the log transform's -log(l_3 + eps) for task 3 against the
# step, one panel per learning rate of s (LSD-6, seed 0). Vars: dat (step, then s_3 and
# -log l_3 for each of the three s learning rates, headed).
set termoption noenhanced
set multiplot layout 1,3
set xlabel 'step'
set ylabel 's_3'
set key center right
array LAB[3] = ['s lr = net lr', 's lr = 10 x net lr', 's lr = 100 x net lr']
do for [i=0:2] {
    set title LAB[i + 1]
    plot dat using 1:(column(2 + 2 * i)) with lines lw 2 title 's_3 (learnt)', \
         dat using 1:(column(3 + 2 * i)) with lines lw 1 title '-log(l_3 + eps)'
}
unset multiplot
