# plots/peers.gp: one point per peer of a run (DIR/peers.tsv), coloured by class, loaded by
# `swarmlab plot`. Variables: dir, classes, plotsdir; done (classes with completed leechers),
# ratio (classes with peers that downloaded); c_class, c_up, c_dl, c_bup, c_bdown (peers.tsv's
# columns); xlog, xmin, xmax (upload axis, Mbit/s); dlmax, ratiomax (largest y values).
# Writes DIR/time_vs_upload.{png,svg} and DIR/ratio_vs_upload.{png,svg}.
reset
load plotsdir."/common.gp"
peers = dir."/peers.tsv"
mbit(bps) = bps * 8 / 1e6
is(c) = strcol(c_class) eq c
do for [fmt in "png svg"] {
    eval termcmd(fmt, 900, 560)
    set key outside right top title "class"
    if (xlog) { set logscale x; set xrange [xmin:xmax] } else { unset logscale x; set xrange [0:xmax] }
    set xlabel "upload capacity (Mbit/s)"
    if (words(done) > 0) {
        set output dir."/time_vs_upload.".fmt
        set title "Download time against upload capacity (one translucent point per completed leecher)"
        set ylabel "download time: join to completion (s)"
        set yrange [0:dlmax * 1.08]
        plot for [i=1:words(done)] peers \
            using (is(word(done, i)) && column(c_dl) >= 0 ? mbit(column(c_up)) : NaN):(column(c_dl)) \
            with points pt 7 ps 1.1 lc rgb ccola(word(done, i)) title word(done, i)
        unset output
    }
    if (words(ratio) > 0) {
        set output dir."/ratio_vs_upload.".fmt
        set title "Share ratio against upload capacity (one translucent point per peer that downloaded)"
        set ylabel "share ratio: bytes up / bytes down"
        set yrange [0:(ratiomax > 1 ? ratiomax : 1) * 1.08]
        plot for [i=1:words(ratio)] peers \
            using (is(word(ratio, i)) && column(c_bdown) > 0 ? mbit(column(c_up)) : NaN):(column(c_bup) / column(c_bdown)) \
            with points pt 7 ps 1.1 lc rgb ccola(word(ratio, i)) title word(ratio, i), \
            1 with lines dt 2 lc rgb "#888888" title "ratio 1"
        unset output
    }
}
