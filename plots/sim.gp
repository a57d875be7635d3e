# plots/sim.gp: figures of one simulation run (swarmlab sim -o DIR).
# Usage: gnuplot -e "dir='DIR'; classes='adsl cable'" plots/sim.gp
# Writes DIR/completion.{png,svg} (download-time CDF per leecher class) and
# DIR/swarm.{png,svg} (leechers and seeds, with the fluid model's when DIR/fluid.tsv exists;
# aggregate payload rate; piece availability).
if (!exists("dir")) dir = "results"
if (!exists("classes")) classes = ""
set datafile separator "\t"
set datafile commentschars "#"
peers = dir."/peers.tsv"
ts = dir."/timeseries.tsv"
fluid = dir."/fluid.tsv"
hasfluid = system("test -s '".fluid."' && echo 1 || echo 0") + 0
do for [fmt in "png svg"] {
    if (fmt eq "png") { set terminal pngcairo size 900,560 noenhanced } else { set terminal svg size 900,560 noenhanced }
    set output dir."/completion.".fmt
    set title "download time by class (CDF of completed leechers)"
    set xlabel "download time (s)"
    set ylabel "fraction of the class's leechers done"
    set key right bottom
    set grid
    set yrange [0:1]
    set xrange [0:*]
    plot for [i=1:words(classes)] dir."/completion.tsv" index (i-1) using 1:2 with steps lw 2 \
        title word(classes, i)
    unset yrange
    if (fmt eq "png") { set terminal pngcairo size 900,900 noenhanced } else { set terminal svg size 900,900 noenhanced }
    set output dir."/swarm.".fmt
    set multiplot layout 3,1
    set title "peers in the swarm"
    set xlabel "simulated time (s)"
    set ylabel "peers"
    set key left top
    if (hasfluid) {
        plot ts using 1:2 with lines lw 2 lc 1 title "leechers", \
             ts using 1:3 with lines lw 2 lc 2 title "seeds", \
             fluid using 1:2 with lines lw 2 lc 1 dt 2 title "leechers (fluid model)", \
             fluid using 1:3 with lines lw 2 lc 2 dt 2 title "seeds (fluid model)"
    } else {
        plot ts using 1:2 with lines lw 2 title "leechers", ts using 1:3 with lines lw 2 title "seeds"
    }
    set title "aggregate payload rate"
    set ylabel "MB/s"
    plot ts using 1:($4/1e6) with lines lw 2 title "payload delivered"
    set title "piece availability among present peers"
    set ylabel "copies"
    plot ts using 1:5 with lines lw 2 title "rarest piece", ts using 1:6 with lines lw 2 title "mean"
    unset multiplot
}
