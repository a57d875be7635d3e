#!/usr/bin/env bash
# `swarmlab plot` reports: a run with two ISPs (tests/sim/report-isp.ini), a run without ISPs
# (tiny.ini), a replications directory and a sweep. Each index.html is opened in headless
# Chromium, which must load every <img>; every figure file must be a non-empty PNG/SVG; gnuplot
# must print nothing on stderr. Also: a page with a figure deleted is caught, missing optional
# inputs (fluid.tsv, matrix.tsv) give notes instead of figures, text is HTML-escaped, and a
# malformed peers.tsv is refused naming the file and line.
# Usage: SWARMLAB=/path/to/swarmlab bash tests/sim/report.sh
set -eu
: "${SWARMLAB:?set SWARMLAB to the swarmlab binary}"
CHROMIUM=${CHROMIUM:-chromium}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
small=(--set swarm.file_size=1MiB --set swarm.piece_size=64KiB -q)

# plot DIR: runs swarmlab plot; its stderr (gnuplot's included) must be empty.
plot() {
    if ! "$SWARMLAB" plot "$1" --plots plots > "$tmp/plot.out" 2> "$tmp/plot.err"; then
        bad "swarmlab plot $1 failed: $(head -5 "$tmp/plot.err")"; return
    fi
    if [ -s "$tmp/plot.err" ]; then bad "plot $1 printed on stderr: $(head -3 "$tmp/plot.err")"
    else ok "plot $(basename "$1"): no warnings"; fi
}

# files DIR: every <img src> of DIR/index.html is a non-empty SVG, with a non-empty PNG beside,
# and every <a href> exists; sets nfig to the number of images.
files() {
    local d=$1 src
    nfig=0
    for src in $(grep -o '<img src="[^"]*"' "$d/index.html" | sed 's/<img src="//; s/"$//'); do
        nfig=$((nfig + 1))
        case "$src" in /* | *://* | *..*) bad "$src: not a relative path inside the report";; esac
        if ! head -c 400 "$d/$src" 2>/dev/null | grep -q '<svg'; then bad "$d/$src: not an SVG"; fi
        local png=${src%.svg}.png
        if ! head -c 8 "$d/$png" 2>/dev/null | grep -q 'PNG'; then bad "$d/$png: not a PNG"; fi
    done
    for src in $(grep -o '<a href="[^"]*"' "$d/index.html" | sed 's/<a href="//; s/"$//'); do
        case "$src" in /* | *://* | *..*) bad "link $src: not a relative path inside the report";; esac
        [ -e "$d/$src" ] || bad "$(basename "$d"): link to missing $src"
    done
}

# browser DIR: headless Chromium opens a copy of DIR/index.html with a script appended that
# lists every image as loaded (complete, naturalWidth > 0) or broken. Prints the broken ones
# and "count N"; returns 1 if any image is broken or there is none.
browser() {
    local d=$1 prof out
    prof=$(mktemp -d "$tmp/chrome.XXXXXX")
    { cat "$d/index.html"
      cat <<'JS'
<script>
window.addEventListener('load', function () {
  var tag = '@' + '@IMG', lines = [tag + '-COUNT ' + document.images.length];
  for (var i = 0; i < document.images.length; i++) {
    var im = document.images[i];
    lines.push(tag + (im.complete && im.naturalWidth > 0 ? ' loaded ' : ' broken ') +
               im.getAttribute('src'));
  }
  var pre = document.createElement('pre');
  pre.textContent = lines.join('\n');
  document.body.appendChild(pre);
});
</script>
JS
    } > "$d/imgcheck.html"
    out=$(timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
        --no-first-run --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$prof" --virtual-time-budget=5000 --dump-dom "file://$d/imgcheck.html" \
        2> "$tmp/chromium.err" | grep -o '@@IMG[^<]*' || true)
    rm -rf "$prof" "$d/imgcheck.html"
    local count loaded
    count=$(printf '%s\n' "$out" | sed -n 's/^@@IMG-COUNT //p')
    loaded=$(printf '%s\n' "$out" | grep -c '^@@IMG loaded ' || true)
    printf '%s\n' "$out" | sed -n 's/^@@IMG broken /broken /p'
    echo "count ${count:-none} loaded $loaded"
    [ -n "$count" ] && [ "$count" -gt 0 ] && [ "$count" = "$loaded" ]
}

# page DIR MIN: files and browser checks, at least MIN figures.
page() {
    local d=$1 min=$2 res
    files "$d"
    [ "$nfig" -ge "$min" ] && ok "$(basename "$d"): $nfig figures (at least $min)" \
        || bad "$(basename "$d"): $nfig figures, expected at least $min"
    if res=$(browser "$d"); then ok "$(basename "$d"): Chromium loaded every image ($(echo "$res" | tail -1))"
    else bad "$(basename "$d"): Chromium: $(echo "$res" | tr '\n' ' ')"; fi
}

if ! command -v "$CHROMIUM" > /dev/null; then echo "FAIL $CHROMIUM not installed (make deps)"; exit 1; fi

# 1. a run with two ISPs: every figure, the ISP matrix and its cross-ISP share
"$SWARMLAB" sim tests/sim/report-isp.ini -q -o "$tmp/isp" > /dev/null
plot "$tmp/isp"
page "$tmp/isp" 6
for fig in completion time_vs_upload ratio_vs_upload swarm unchoke isp; do
    grep -q "<img src=\"$fig.svg\"" "$tmp/isp/index.html" || bad "isp: no $fig figure"
done
# every payload byte of matrix.tsv is in the ISP matrix, and the cross share matches it
awk -F'\t' 'FNR == NR && !/^#/ {t += $3} FNR != NR && NF == 4 && !/^#/ {s += $3 * 1e6}
    END {d = s - t; exit !(t > 0 && d < 1 && d > -1)}' "$tmp/isp/matrix.tsv" "$tmp/isp/report-isp.tsv" \
    && ok "report-isp.tsv holds every byte of matrix.tsv" || bad "report-isp.tsv bytes != matrix.tsv bytes"
grep -q 'crossed ISPs' "$tmp/isp/index.html" && grep -q '% of the payload bytes went between ISPs' \
    "$tmp/isp/index.html" && ok "cross-ISP share stated" || bad "no cross-ISP share in the page"
for k in 'simulated time' 'events' 'median (s)' 'p95 (s)' 'share ratio' 'upload utilisation' \
         'Jain: download rate' 'steady state: download time'; do
    grep -q "$k" "$tmp/isp/index.html" || bad "isp page lacks '$k'"
done

# 2. a deleted figure is caught by the Chromium check
cp -r "$tmp/isp" "$tmp/broken"
rm "$tmp/broken/unchoke.svg"
if res=$(browser "$tmp/broken"); then bad "a missing unchoke.svg was not detected ($res)"
elif echo "$res" | grep -q '^broken unchoke.svg$'; then ok "missing unchoke.svg detected as broken"
else bad "Chromium check failed without naming unchoke.svg: $res"; fi

# 3. no ISPs, no fluid.tsv, no matrix.tsv, no completion: notes instead of figures
"$SWARMLAB" sim scenarios/tiny.ini "${small[@]}" -o "$tmp/tiny" > /dev/null
plot "$tmp/tiny"
page "$tmp/tiny" 5
grep -q 'No cross-ISP traffic figure: all peers are in one ISP' "$tmp/tiny/index.html" \
    && ok "no ISPs: noted" || bad "no note about the missing ISP figure"
[ ! -e "$tmp/tiny/isp.svg" ] || bad "isp.svg drawn without ISPs"
cp -r "$tmp/tiny" "$tmp/bare"
rm "$tmp/bare"/{fluid.tsv,matrix.tsv} "$tmp/bare"/*.svg "$tmp/bare"/*.png
plot "$tmp/bare"
page "$tmp/bare" 4
grep -q 'No fluid.tsv' "$tmp/bare/index.html" && grep -q 'No matrix.tsv' "$tmp/bare/index.html" \
    && ok "missing fluid.tsv and matrix.tsv: noted" || bad "no notes for missing fluid.tsv/matrix.tsv"
[ ! -e "$tmp/bare/unchoke.svg" ] || bad "unchoke.svg drawn without matrix.tsv"

# a run cut short before any completion: notes instead of the completion figures, no warnings
"$SWARMLAB" sim scenarios/tiny.ini "${small[@]}" --set swarm.duration=1s -o "$tmp/cut" > /dev/null
plot "$tmp/cut"
page "$tmp/cut" 2
grep -q 'No download time CDF: no leecher completed' "$tmp/cut/index.html" \
    && ok "no completions: noted" || bad "no note about the missing CDF"

# 4. text from the results is escaped
cp -r "$tmp/tiny" "$tmp/esc"
sed -i 's|"scenario": "[^"]*"|"scenario": "x<b>\&amp;\\"y\\"<script>"|' "$tmp/esc/summary.json"
plot "$tmp/esc"
if grep -q '<b>\|<script>' "$tmp/esc/index.html"; then bad "unescaped markup in the page"
elif grep -q 'x&lt;b&gt;&amp;amp;&quot;y&quot;&lt;script&gt;' "$tmp/esc/index.html"; then ok "scenario name escaped"
else bad "escaped scenario name not found"; fi

# 5. malformed input is refused, naming the file and line
cp -r "$tmp/tiny" "$tmp/bad"
sed -i '3s/\t[0-9.]*\t/\tnotanumber\t/3' "$tmp/bad/peers.tsv"
if "$SWARMLAB" plot "$tmp/bad" --plots plots > /dev/null 2> "$tmp/bad.err"; then bad "bad peers.tsv accepted"
elif grep -q 'peers.tsv:3:' "$tmp/bad.err"; then ok "bad peers.tsv refused: $(head -1 "$tmp/bad.err")"
else bad "bad peers.tsv: unclear error: $(cat "$tmp/bad.err")"; fi

cp -r "$tmp/tiny" "$tmp/bad2"
sed -i '3s/^[a-z]*\t/nosuchclass\t/' "$tmp/bad2/matrix.tsv"
if "$SWARMLAB" plot "$tmp/bad2" --plots plots > /dev/null 2> "$tmp/bad2.err"; then bad "bad matrix.tsv accepted"
elif grep -q "matrix.tsv:3: bad row 'nosuchclass" "$tmp/bad2.err"; then ok "bad matrix.tsv refused: $(head -1 "$tmp/bad2.err")"
else bad "bad matrix.tsv: unclear error: $(cat "$tmp/bad2.err")"; fi
cp -r "$tmp/tiny" "$tmp/bad3"
sed -i '1s/\tdownload_s\t/\tdl\t/' "$tmp/bad3/peers.tsv"
if "$SWARMLAB" plot "$tmp/bad3" --plots plots > /dev/null 2> "$tmp/bad3.err"; then bad "peers.tsv without download_s accepted"
elif grep -q "peers.tsv:1: no column 'download_s'" "$tmp/bad3.err"; then ok "peers.tsv without download_s refused"
else bad "missing column: unclear error: $(cat "$tmp/bad3.err")"; fi
awk 'NR == 2 {printf "%s", $0; for (i = 0; i < 70000; i++) printf "x"; print ""; next} {print}' \
    "$tmp/tiny/peers.tsv" > "$tmp/bad3/peers.tsv"
if "$SWARMLAB" plot "$tmp/bad3" --plots plots > /dev/null 2> "$tmp/bad3.err"; then bad "overlong peers.tsv line accepted"
elif grep -q "peers.tsv:2: line longer than" "$tmp/bad3.err"; then ok "overlong peers.tsv line refused"
else bad "overlong line: unclear error: $(cat "$tmp/bad3.err")"; fi

# 6. replications: means with CIs, pooled CDF, the first run's figures
"$SWARMLAB" sim tests/sim/report-isp.ini --replications 3 --seed 5 -q -o "$tmp/reps" > /dev/null
plot "$tmp/reps"
page "$tmp/reps" 8
grep -q '<img src="reps_means.svg"' "$tmp/reps/index.html" && grep -q '<img src="reps_cdf.svg"' \
    "$tmp/reps/index.html" && grep -q '<img src="rep-5/isp.svg"' "$tmp/reps/index.html" \
    && ok "replications: means, pooled CDF and rep-5's figures" || bad "replications page lacks figures"
page "$tmp/reps/rep-5" 6
pooled=$(grep -c $'^[0-9.]*\t' "$tmp/reps/report-cdf.tsv" || true)
# peers.tsv columns by name (the header is "# id<TAB>class<TAB>...")
PEERCOLS='FNR == 1 {sub(/^# /, ""); for (i = 1; i <= NF; i++) c[$i] = i; next}'
done3=$(awk -F'\t' "$PEERCOLS"' $c["download_s"] >= 0' "$tmp"/reps/rep-*/peers.tsv | wc -l)
[ "$pooled" = "$done3" ] && ok "pooled CDF: $pooled completions of 3 runs" \
    || bad "pooled CDF has $pooled rows, the runs $done3 completions"

# the pooled table: the dsl leechers of the 3 runs, their mean download time (4 digits)
want=$(awk -F'\t' "$PEERCOLS"' $c["class"] == "dsl" {n++; t = $c["download_s"]; if (t >= 0) {d++; s += t}}
    END {printf "<td class=\"l\">dsl</td><td>%d</td><td>%d</td><td>%.4g</td>", n, d, s / d}' \
    "$tmp"/reps/rep-*/peers.tsv)
grep -qF "$want" "$tmp/reps/index.html" && ok "pooled table: $want" \
    || bad "pooled table lacks $want"

# 7. a sweep with CI bars
"$SWARMLAB" sweep scenarios/tiny.ini "${small[@]}" --set arrivals.count=6 \
    --vary class.cable.up=5Mbit,20Mbit --replications 2 -o "$tmp/sweep" > /dev/null
plot "$tmp/sweep"
page "$tmp/sweep" 1
grep -q '95% CI over 2 replications' "$tmp/sweep/sweep.svg" && ok "sweep figure has CI bars" \
    || bad "sweep figure lacks the CI legend"
grep -q '&plusmn;' "$tmp/sweep/index.html" && ok "sweep table has CIs" || bad "sweep table lacks CIs"

[ $fail -eq 0 ] && echo "report.sh: all checks passed"
exit $fail
