# propa1.gp: D5/D6, relative parameter distance to the log-ew run against the step (log y; an
# exact 0, bit-identical parameters, is drawn at 1e-16). Vars: dat (step, exact, learnt s).
set termoption noenhanced
set logscale y
set yrange [1e-17:*]
set xlabel 'step'
set ylabel '||theta - theta_log-ew|| / ||theta_log-ew||'
set key bottom right
plot dat using 1:($2 > 0 ? $2 : 1e-16) with lines lw 2 title 'imtl-l-exact (s = -log(l + eps))', \
     dat using 1:($3 > 0 ? $3 : 1e-16) with lines lw 2 title 'imtl-l (learnt s)'
