# plots/matrix.gp: the unchoke matrix of a run as heat maps (DIR/report-matrix.tsv, derived by
# `swarmlab plot` from matrix.tsv), loaded by `swarmlab plot`. Rows: the class that unchokes
# and uploads; columns: the class it serves. Each row is normalised to its total: the share of
# the row class's regular unchoke time, optimistic unchoke time and uploaded bytes that went
# to each class. Variables: dir, classes, plotsdir. Writes DIR/unchoke.{png,svg}.
reset
load plotsdir."/common.gp"
data = dir."/report-matrix.tsv"
n = words(classes)
set palette defined (0 "#ffffff", 0.5 "#9ecae1", 1 "#3182bd")
set cbrange [0:1]
set cbtics ("0%%" 0, "25%%" 0.25, "50%%" 0.5, "75%%" 0.75, "100%%" 1) scale 0
set xrange [-0.5:n - 0.5]
set yrange [n - 0.5:-0.5]
set xtics () rotate by -30 scale 0
set ytics () scale 0
do for [i=1:n] { set xtics add (word(classes, i) i - 1); set ytics add (word(classes, i) i - 1) }
unset grid
set size ratio -1
# a share of -1: none defined (the row's total is 0), drawn white and labelled "-"
img(v) = v < 0 ? 0 : v
pct(v) = v >= 0 ? sprintf("%.0f%%", 100 * v) : "-"
# cell labels: shares up to 10 classes, and the MB sent up to 4
lab(v, mb) = v < 0 ? "-" : n <= 4 ? sprintf("%.0f%%\n%s", 100 * v, hb(mb)) : pct(v)
labels = n <= 10
do for [fmt in "png svg"] {
    eval termcmd(fmt, 1500, 560)
    set output dir."/unchoke.".fmt
    set multiplot layout 1,3 title "Unchoke matrix: where each class's unchokes and upload go (each row sums to 100%; -: that class had none)"
    set xlabel "to class (unchoked / receiving)"
    set ylabel "from class (unchoking / uploading)" offset -2,0
    set lmargin 14
    set title "Share of regular unchoke time"
    plot data using 2:1:(img($4)) with image notitle, \
         data using 2:1:(labels ? pct($4) : "") with labels notitle
    set title "Share of optimistic unchoke time"
    plot data using 2:1:(img($5)) with image notitle, \
         data using 2:1:(labels ? pct($5) : "") with labels notitle
    set title "Share of uploaded bytes".(n <= 4 ? " (and bytes sent)" : "")
    plot data using 2:1:(img($6)) with image notitle, \
         data using 2:1:(labels ? lab($6, $3) : "") with labels notitle
    unset multiplot
    unset lmargin
    unset output
}
