# plots/sim.gp: figures of one simulation run (swarmlab sim -o DIR), loaded by `swarmlab plot`.
# Variables: dir; classes (all, for colours); cdf (completion.tsv's classes, block order);
# hasfluid (1: overlay DIR/fluid.tsv); peersmax, ratemax (MB/s), availmax (the largest values);
# plotsdir. Writes DIR/completion.{png,svg} (download time CDF per
# leecher class) and DIR/swarm.{png,svg} (leechers and seeds, with the fluid model's when
# hasfluid; aggregate payload rate; piece availability).
reset
if (!exists("dir")) dir = "results"
if (!exists("cdf")) cdf = ""
if (!exists("hasfluid")) hasfluid = 0
load plotsdir."/common.gp"
peers = dir."/peers.tsv"
ts = dir."/timeseries.tsv"
fluid = dir."/fluid.tsv"
do for [fmt in "png svg"] {
    if (words(cdf) > 0) {
        eval termcmd(fmt, 900, 560)
        set output dir."/completion.".fmt
        set title "Download time by class (CDF over each class's leechers; incomplete ones keep it below 1)"
        set xlabel "download time: join to completion (s)"
        set ylabel "fraction of the class's leechers done"
        set key right bottom title "class"
        set yrange [0:1.02]
        set xrange [0:*]
        # steps join each point to the next; the first jump (from 0) is drawn apart
        plot for [i=1:words(cdf)] dir."/completion.tsv" index (i-1) using 1:2 with steps lw 2 \
                lc rgb ccol(word(cdf, i)) title word(cdf, i), \
             for [i=1:words(cdf)] dir."/completion.tsv" index (i-1) every ::0::0 using 1:(0):(0):2 \
                with vectors nohead lw 2 lc rgb ccol(word(cdf, i)) notitle
        unset output
        unset yrange
        unset xrange
    }
    eval termcmd(fmt, 900, 900)
    set output dir."/swarm.".fmt
    set multiplot layout 3,1 title "Swarm over time"
    set lmargin at screen 0.08
    set rmargin at screen 0.72
    set title "Peers in the swarm".(hasfluid ? " (dashed: Qiu-Srikant fluid model)" : " (no fluid model for this run)")
    set xlabel "simulated time (s)"
    set ylabel "peers"
    set key outside right top title ""
    ymax(m) = m > 0 ? m * 1.08 : 1
    set yrange [0:ymax(peersmax)]
    if (hasfluid) {
        plot ts using 1:2 with lines lw 2 lc rgb "#1f77b4" title "leechers", \
             ts using 1:3 with lines lw 2 lc rgb "#2ca02c" title "seeds", \
             fluid using 1:2 with lines lw 2 lc rgb "#1f77b4" dt 2 title "leechers (fluid model)", \
             fluid using 1:3 with lines lw 2 lc rgb "#2ca02c" dt 2 title "seeds (fluid model)"
    } else {
        plot ts using 1:2 with lines lw 2 lc rgb "#1f77b4" title "leechers", \
             ts using 1:3 with lines lw 2 lc rgb "#2ca02c" title "seeds"
    }
    set title "Aggregate payload rate"
    set ylabel "payload delivered (MB/s)"
    set yrange [0:ymax(ratemax)]
    plot ts using 1:($4/1e6) with lines lw 2 lc rgb "#d62728" title "all peers"
    set title "Piece availability among present peers"
    set ylabel "copies of a piece"
    set yrange [0:ymax(availmax)]
    plot ts using 1:5 with lines lw 2 lc rgb "#9467bd" title "rarest piece", \
         ts using 1:6 with lines lw 2 lc rgb "#ff7f0e" title "mean over pieces"
    unset multiplot
    unset output
    unset lmargin
    unset rmargin
}
