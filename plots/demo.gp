# plots/demo.gp: the in-process demo swarm (swarmlab demo -o DIR): each leecher's verified
# pieces over time, and the completion-time CDF.
# Usage: gnuplot -e "dir='results/demo'" plots/demo.gp  -> DIR/demo.png and DIR/demo.svg
if (!exists("dir")) dir = "results/demo"
set datafile separator "\t"
set datafile commentschars "#"
stats dir."/progress.tsv" nooutput
ncols = STATS_columns
do for [fmt in "png svg"] {
    if (fmt eq "png") { set terminal pngcairo size 1100,480 noenhanced } else { set terminal svg size 1100,480 noenhanced }
    set output dir."/demo.".fmt
    set multiplot layout 1,2 title "swarmlab demo: one seed, real engine leechers, in-memory pipes"
    set title "pieces verified per leecher"
    set xlabel "simulated time (s)"
    set ylabel "pieces"
    set grid
    set key off
    set xrange [0:*]
    set yrange [0:*]
    plot for [col=2:ncols] dir."/progress.tsv" using 1:col with lines lw 1.5
    set title "leechers complete (CDF)"
    set ylabel "leechers"
    plot dir."/peers.tsv" using ((stringcolumn(2) eq "leecher" && $4 >= 0) ? $4 : 1/0):(1.0) smooth cumulative with steps lw 2
    unset multiplot
}
