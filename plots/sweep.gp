# plots/sweep.gp: one figure of a parameter sweep (swarmlab sweep -o DIR): the mean download
# time of each leecher class against the first varied key, with 95% confidence intervals.
# 'swarmlab plot DIR' sets these variables and loads this file once per figure:
#   dir      the sweep directory (reads DIR/sweep.tsv)
#   out      the figure's file name without extension (writes DIR/OUT.png and DIR/OUT.svg)
#   classes  the leecher classes, separated by spaces (one curve each)
#   fig      which figure: the rows with point % stride == fig
#   stride   points between two values of the first key (1 when only one key is varied)
#   kcol     the class column; mcol: the mean download time column (its CI half-width next)
#   xs       numeric x positions of the first key's values, separated by spaces, or "" to
#            place them evenly, labelled as written (column 2)
#   nx       how many values the first key has
#   xlab     the x axis label; subtitle: the other keys' values in this figure (or "")
#   reps     replications per point
#   plotsdir the directory of these scripts (for common.gp); colours: optional, see common.gp
reset
load plotsdir."/common.gp"
data = dir."/sweep.tsv"
xi(p) = int(p) / stride
xpos(p) = xs eq "" ? xi(p) : real(word(xs, xi(p) + 1))
# classes side by side around each x, so their error bars do not hide each other
xlo = 0
xhi = nx - 1
if (xs ne "") { xlo = real(word(xs, 1)); xhi = xlo; do for [i=2:words(xs)] { v = real(word(xs, i)); xlo = v < xlo ? v : xlo; xhi = v > xhi ? v : xhi } }
dodge = (xhi > xlo ? xhi - xlo : 1) * 0.012
xoff(i) = (i - (words(classes) + 1) / 2.0) * dodge
ci(s) = s eq "nan" ? 0 : real(s)
pick(p, c, y) = (int(p) % stride == fig && strcol(kcol) eq c) ? y : NaN
do for [fmt in "png svg"] {
    eval termcmd(fmt, 900, 560)
    set output dir."/".out.".".fmt
    set title "Mean download time per class (".(reps > 1 ? sprintf("error bars: 95%% CI over %d replications", reps) : "one replication per point: no CI").")".(subtitle eq "" ? "" : "\n".subtitle)
    set xlabel xlab
    set ylabel "mean download time (s)"
    set key outside right top
    set grid
    set yrange [0:*]
    set offsets graph 0.04, graph 0.04, 0, 0
    if (xs eq "") {
        set xrange [-0.5:nx - 0.5]
        plot for [i=1:words(classes)] data skip 1 \
            using (xpos($1) + xoff(i)):(pick($1, word(classes, i), column(mcol))):(ci(strcol(mcol + 1))):xticlabels(2) \
            with yerrorlines lw 2 pt 7 lc rgb ccol(word(classes, i)) title word(classes, i)
    } else {
        set autoscale x
        set xtics autofreq
        plot for [i=1:words(classes)] data skip 1 \
            using (xpos($1) + xoff(i)):(pick($1, word(classes, i), column(mcol))):(ci(strcol(mcol + 1))) \
            with yerrorlines lw 2 pt 7 lc rgb ccol(word(classes, i)) title word(classes, i)
    }
    unset output
}
