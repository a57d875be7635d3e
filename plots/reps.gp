# plots/reps.gp: figures of a replications directory (swarmlab sim --replications N -o DIR),
# loaded by `swarmlab plot`. Variables: dir, classes (all, for colours and the x axis),
# plotsdir; metrics (replications.tsv metrics to draw, one panel each); cdf (the classes of
# DIR/report-cdf.tsv, block order); seeds (seed classes); runs; ymaxes (each metric's top). Writes DIR/reps_means.{png,svg} (per-class means
# with 95% CI bars) and DIR/reps_cdf.{png,svg} (download time CDF pooled over the runs).
reset
load plotsdir."/common.gp"
data = dir."/replications.tsv"
n = words(classes)
nm = words(metrics)
mtitle(m) = m eq "download_time_s" ? "Mean download time of completed leechers" : \
            m eq "completed_fraction" ? "Leechers that completed" : \
            m eq "share_ratio" ? "Share ratio" : "Upload utilisation"
mlabel(m) = m eq "download_time_s" ? "download time (s)" : \
            m eq "completed_fraction" ? "fraction of the class's leechers" : \
            m eq "share_ratio" ? "bytes up / bytes down" : "bytes up / (capacity x time present)"
ok(v, d) = v == v ? v : d
if (!exists("seeds")) { seeds = "" }
isseed(c) = sum [i=1:words(seeds)] (word(seeds, i) eq c ? 1 : 0)
# the row's metric is m (a seed's share ratio is not defined: it never downloads)
want(m) = strcol(2) eq m && !(m eq "share_ratio" && isseed(strcol(1)))
do for [fmt in "png svg"] {
    if (nm > 0) {
        eval termcmd(fmt, 1000, nm > 2 ? 820 : 420)
        set output dir."/reps_means.".fmt
        set multiplot layout (nm + 1) / 2, 2 title sprintf("Per-class means over %d run%s (bars: mean; error bars: 95%% confidence interval%s)", runs, runs == 1 ? "" : "s", runs < 2 ? ", undefined for one run" : "")
        set style fill solid 0.6 border -1
        set boxwidth 0.6
        set xrange [-0.6:n - 0.4]
        set xtics () scale 0
        do for [i=1:n] { set xtics add (word(classes, i) i - 1) }
        set xlabel "class"
        set key off
        do for [j=1:nm] {
            m = word(metrics, j)
            set title mtitle(m)
            set ylabel mlabel(m)
            ym = real(word(ymaxes, j))
            if (m eq "completed_fraction") { set yrange [0:1.05] } else { set yrange [0:(ym > 0 ? ym * 1.08 : 1)] }
            plot data using (cidx(strcol(1)) - 1):(want(m) ? $4 : NaN):(ccolint(strcol(1))) \
                     with boxes lc rgb variable notitle, \
                 data using (cidx(strcol(1)) - 1):(want(m) ? $4 : NaN):(ok($6, $4)):(ok($7, $4)) \
                     with yerrorbars lc rgb "#000000" pt 7 ps 0.4 lw 1.5 notitle
        }
        unset multiplot
        unset output
    }
    if (words(cdf) > 0) {
        reset
        load plotsdir."/common.gp"
        eval termcmd(fmt, 900, 560)
        set output dir."/reps_cdf.".fmt
        set title sprintf("Download time by class, pooled over %d run%s (CDF over all runs' leechers)", runs, runs == 1 ? "" : "s")
        set xlabel "download time: join to completion (s)"
        set ylabel "fraction of the class's leechers done"
        set key right bottom title "class"
        set yrange [0:1.02]
        set xrange [0:*]
        # steps join each point to the next; the first jump (from 0) is drawn apart
        plot for [i=1:words(cdf)] dir."/report-cdf.tsv" index (i-1) using 1:2 with steps lw 2 \
                lc rgb ccol(word(cdf, i)) title word(cdf, i), \
             for [i=1:words(cdf)] dir."/report-cdf.tsv" index (i-1) every ::0::0 using 1:(0):(0):2 \
                with vectors nohead lw 2 lc rgb ccol(word(cdf, i)) notitle
        unset output
    }
}
