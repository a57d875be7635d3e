# plots/common.gp: settings shared by the report's scripts (loaded by each after `reset`):
# TSV input, class colours that stay the same in every figure, helpers.
#   classes   every class, space-separated, in scenario order (sets the colours)
set datafile separator "\t"
set datafile commentschars "#"
set datafile missing NaN
#   colours   optional: the classes in scenario order when |classes| is a subset (sweeps)
if (!exists("classes")) { classes = "" }
if (!exists("colours")) { colours = classes }
# the class's position in |colours| (1-based), 0 if absent; its colour
cidx(s) = sum [i=1:words(colours)] (word(colours, i) eq s ? i : 0)
array palette[8] = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
ccol(s) = palette[(cidx(s) - 1) % 8 + 1]
# the same colour, translucent (alpha 0x70), so that piles of points show their density
ccola(s) = "#70".ccol(s)[2:7]
array paletteint[8] = [0x1f77b4, 0xd62728, 0x2ca02c, 0xff7f0e, 0x9467bd, 0x8c564b, 0xe377c2, 0x17becf]
ccolint(s) = paletteint[(cidx(s) - 1) % 8 + 1]
# terminals: term(fmt, width, height) is called as a macro via `eval`
termcmd(fmt, w, h) = fmt eq "png" ? sprintf("set terminal pngcairo size %d,%d noenhanced font 'sans,10'", w, h) : sprintf("set terminal svg size %d,%d noenhanced font 'sans,11' background '#ffffff'", w, h)
# a byte count given in MB, written with a readable unit
hb(mb) = mb >= 1000 ? sprintf("%.3g GB", mb / 1000) : mb >= 1 || mb == 0 ? sprintf("%.3g MB", mb) : sprintf("%.3g kB", mb * 1000)
set grid
