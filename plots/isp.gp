# plots/isp.gp: payload bytes between ISPs as a heat map (DIR/report-isp.tsv, derived by
# `swarmlab plot` from matrix.tsv and each class's ISP), loaded by `swarmlab plot`.
# Variables: dir, isps (ISP names, space-separated, in the table's order), cross (share of
# bytes between different ISPs, -1 if undefined), plotsdir. Writes DIR/isp.{png,svg}.
reset
load plotsdir."/common.gp"
data = dir."/report-isp.tsv"
n = words(isps)
set palette defined (0 "#ffffff", 0.5 "#fdae6b", 1 "#e6550d")
set cbrange [0:1]
set cbtics ("0%%" 0, "25%%" 0.25, "50%%" 0.5, "75%%" 0.75, "100%%" 1) scale 0
set cblabel "share of all payload bytes"
set xrange [-0.5:n - 0.5]
set yrange [n - 0.5:-0.5]
set xtics () scale 0
set ytics () scale 0
do for [i=1:n] { set xtics add (word(isps, i) i - 1); set ytics add (word(isps, i) i - 1) }
unset grid
set size ratio -1
# a share of -1: no payload at all
lab(mb, v) = v >= 0 ? sprintf("%s\n%.1f%%", hb(mb), 100 * v) : "-"
do for [fmt in "png svg"] {
    eval termcmd(fmt, 760, 620)
    set output dir."/isp.".fmt
    set title "Payload bytes between ISPs: ".(cross >= 0 ? sprintf("%.1f%% crossed ISPs", 100 * cross) : "no payload")
    set xlabel "to ISP (downloading peers)"
    set ylabel "from ISP (uploading peers)"
    plot data using 2:1:($4 < 0 ? 0 : $4) with image notitle, \
         data using 2:1:(n <= 12 ? lab($3, $4) : "") with labels notitle
    unset output
}
