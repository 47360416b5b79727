# escape.gp: R5, P_sharp against the noise intensity sigma_eff: RLW distributions (points) and
# FW with matched isotropic noise (line). Vars: dat.
set termoption noenhanced
set key top right
set xlabel 'sigma_eff'
set ylabel 'P_sharp'
set yrange [-0.05:1.05]
plot dat using 1:2 every ::1 with points pt 7 ps 1.5 title 'RLW / FW', \
     dat using 1:3 every ::1 smooth unique with linespoints lw 2 title 'FW + matched noise'
