# plots/demo.gp: completion times of the in-process demo swarm (swarmlab demo -o DIR).
# Usage: gnuplot -e "dir='results/demo'" plots/demo.gp  -> DIR/demo.png and DIR/demo.svg
if (!exists("dir")) dir = "results/demo"
set datafile separator "\t"
set datafile commentschars "#"
set title "swarmlab demo: leecher completion times"
set xlabel "simulated time (s)"
set ylabel "leechers complete"
set key left top
set grid
set style data steps
stats dir."/peers.tsv" using 4 nooutput
do for [fmt in "png svg"] {
    if (fmt eq "png") { set terminal pngcairo size 900,560 noenhanced } else { set terminal svg size 900,560 noenhanced }
    set output dir."/demo.".fmt
    plot dir."/peers.tsv" using ((stringcolumn(2) eq "leecher" && $4 >= 0) ? $4 : 1/0):(1.0) smooth cumulative lw 2 title "leechers done"
}
