#!/usr/bin/env bash
# `ustack demo` end to end: every close variant, the raw-IP link, loss,
# reordering, duplication and corruption with the recovery drawn, both
# congestion controls, SACK off, the summary's figures, large transfers
# staying readable, strict arguments (and the bench command's arguments).
# CTest sets USTK_BUILD_DIR; exit 77 means skipped.
set -u

build=${USTK_BUILD_DIR:-build}
ustack=$build/ustack
if [ ! -x "$ustack" ]; then
    echo "FAIL: $ustack is not built"
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ustk_demo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

failures=0
out=$tmp/out
err=$tmp/err
rc=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# run ARGS...: run the demo (ASCII, no colour), keep stdout/stderr and rc.
run() {
    NO_COLOR=1 "$ustack" "$@" >"$out" 2>"$err"
    rc=$?
}

expect_rc() { # WANT DESCRIPTION
    if [ "$rc" -ne "$1" ]; then
        fail "$2: exit status $rc, want $1"
        sed 's/^/    | /' "$err" | head -20
        return 1
    fi
    return 0
}

expect_out() { # FIXED-STRING DESCRIPTION
    grep -qF -- "$1" "$out" || fail "$2: output lacks '$1'"
}

expect_count_min() { # REGEX MIN DESCRIPTION
    local n
    n=$(grep -cE -- "$1" "$out")
    [ "$n" -ge "$2" ] || fail "$3: '$1' appears $n times, want at least $2"
}

# The summary: status, goodput, each side's segments and retransmissions
# by cause, the wire.
expect_summary() { # DESCRIPTION
    expect_count_min '^  goodput [0-9]+\.[0-9]+ Mbit/s: [0-9]+ bytes echoed in [0-9]+\.[0-9]+ ms' 1 "$1"
    expect_count_min '^  client: [0-9]+ segments sent; retransmissions: [0-9]+ timeout, [0-9]+ fast retransmit, [0-9]+ SACK/RACK$' 1 "$1"
    expect_count_min '^  server: [0-9]+ segments sent; retransmissions: [0-9]+ timeout, [0-9]+ fast retransmit, [0-9]+ SACK/RACK$' 1 "$1"
    expect_count_min '^  wire: [0-9]+ frames sent, [0-9]+ lost, [0-9]+ reordered, [0-9]+ duplicated, [0-9]+ corrupted$' 1 "$1"
}

# A full run: it succeeded, the summary says so, and the handshake, the
# teardown and TIME-WAIT are all in the ladder.
expect_full_run() { # DESCRIPTION
    expect_rc 0 "$1" || return
    expect_out "ok: echoed" "$1"
    expect_out "matched" "$1"
    expect_out "both sides CLOSED" "$1"
    expect_summary "$1"
    expect_count_min '\[SYN\] seq=0' 1 "$1"
    expect_count_min '\[SYN,ACK\] seq=0 ack=1' 1 "$1"
    expect_count_min '\[FIN,' 2 "$1"
    expect_out "TIME-WAIT" "$1"
    expect_out "TIME-WAIT -> CLOSED" "$1"
    # Every row fits a 100-column terminal.
    if awk 'length($0) > 100 { bad = 1 } END { exit !bad }' "$out"; then
        fail "$1: a line is wider than 100 columns"
    fi
}

# -- the default demo --------------------------------------------------------
run demo --ascii
expect_full_run "default demo"
expect_out "ARP who-has 10.0.0.2? tell 10.0.0.1" "default demo"
expect_out "ARP 10.0.0.2 is-at 02:00:00:00:00:02" "default demo"
expect_out "ESTABLISHED" "default demo"
# Every state change of both ends is drawn, also where a segment goes at
# the same instant.
for change in "CLOSED -> SYN-SENT" "LISTEN -> SYN-RECEIVED" \
    "SYN-SENT -> ESTABLISHED" "SYN-RECEIVED -> ESTABLISHED" \
    "ESTABLISHED -> FIN-WAIT-1" "ESTABLISHED -> CLOSE-WAIT" \
    "CLOSE-WAIT -> LAST-ACK" "FIN-WAIT-1 -> FIN-WAIT-2" \
    "FIN-WAIT-2 -> TIME-WAIT" "LAST-ACK -> CLOSED"; do
    expect_out "$change" "default demo"
done
# The peer's ARP announcement, not kept (RFC 826), is no fault.
expect_out "ignored: arp: announcement from a host not in the cache" "default demo"
expect_out "FIN-WAIT-2" "default demo"
expect_out "LAST-ACK" "default demo"
expect_out "echoed 4109/4109 bytes" "default demo"
expect_out "(an arrow is drawn at the time its segment is sent)" "default demo: the legend"
cp "$out" "$tmp/first"

# The same seed gives the same run, line for line.
run demo --ascii
cmp -s "$out" "$tmp/first" || fail "two runs with the same seed differ"

# -- who closes first ----------------------------------------------------------
run demo --ascii --close client
expect_full_run "--close client"
expect_out "FIN-WAIT-1" "--close client"

run demo --ascii --close server
expect_full_run "--close server"
expect_out "CLOSE-WAIT" "--close server"
expect_out "LAST-ACK" "--close server"
# The server (right column) went through TIME-WAIT.
expect_count_min '\| TIME-WAIT$' 1 "--close server"

run demo --ascii --close both
expect_full_run "--close both"
expect_out "CLOSING" "--close both"
expect_count_min '\| TIME-WAIT$' 1 "--close both"

# -- raw IP link: no Ethernet, no ARP ------------------------------------------
run demo --ascii --link ip
expect_full_run "--link ip"
if grep -qE "ARP (who-has|announce)|is-at" "$out"; then
    fail "--link ip: the ladder shows ARP"
fi

# -- loss: still correct, the recovery visible --------------------------------
for seed in 1 2 3; do
    run demo --ascii --loss 10 --seed "$seed" --bytes 30000
    expect_full_run "--loss 10 --seed $seed"
    expect_count_min ' rtx' 1 "--loss 10 --seed $seed"
    expect_count_min ' LOST' 1 "--loss 10 --seed $seed"
done

# A fold of a single row would be no shorter than the row: this run
# folded one segment alone, and now draws it.
run demo --ascii --loss 5 --bytes 12000
expect_full_run "--loss 5 --bytes 12000"
if grep -qE '\.\.\. 1 more' "$out"; then
    fail "--loss 5 --bytes 12000: one row folded into a summary"
fi

# One loss told in full: the lost segment, duplicate ACKs carrying SACK
# blocks (relative numbers), the cut of cwnd, the retransmission, and the
# ACK from the same side that moves on past the hole.
run demo --ascii --link ip --loss 3 --seed 2 --bytes 200000
expect_full_run "--loss 3 --seed 2"
expect_count_min 'len=1448 win=[0-9]+ LOST' 1 "--loss 3 --seed 2"
expect_count_min 'ack=[0-9]+ sack=[0-9]+-[0-9]+ dupack' 3 "--loss 3 --seed 2"
expect_count_min 'cwnd [0-9]+ ssthresh [0-9]+' 1 "--loss 3 --seed 2"
expect_count_min 'len=1448 win=[0-9]+ rtx' 1 "--loss 3 --seed 2"
recovered() { # the first duplicate ACK's sender later ACKs beyond it
    awk '
        function ack(s) { match(s, /ack=[0-9]+/); return substr(s, RSTART + 4, RLENGTH - 4) + 0 }
        function dir(s) { return index(s, "|<") ? "<" : "-" }
        !seen && / dupack/ { seen = 1; d = dir($0); a = ack($0); next }
        seen && / ack=/ && dir($0) == d && ack($0) > a { found = 1 }
        END { exit !found }' "$out"
}
recovered || fail "--loss 3 --seed 2: no ACK moves on after the duplicate ACKs"
# With SACK, RACK (RFC 8985) finds the loss: the repair counts as SACK/RACK.
if ! grep -qE 'retransmissions: [0-9]+ timeout, [0-9]+ fast retransmit, [1-9][0-9]* SACK/RACK' "$out"; then
    fail "--loss 3 --seed 2: no SACK/RACK retransmission counted"
fi

# Without SACK: no SACK option anywhere, the duplicate ACKs still shown.
# A server whose application stops reading closes its window while the
# client still has data in flight; the client must keep to the window the
# server offered (SND.WL2 + SND.WND) and the transfer must finish.
run demo --quiet --loss 5 --no-sack --bytes 3000000 --seed 1
expect_rc 0 "zero window under loss" && expect_out "matched" "zero window under loss"

run demo --ascii --link ip --loss 3 --seed 2 --bytes 200000 --no-sack
expect_full_run "--no-sack"
expect_out "SACK off" "--no-sack"
if grep -qE 'sackOK|sack=' "$out"; then
    fail "--no-sack: a segment carries SACK"
fi
expect_count_min ' dupack' 3 "--no-sack"
recovered || fail "--no-sack: no ACK moves on after the duplicate ACKs"
grep -qE 'client: .* 0 SACK/RACK$' "$out" || fail "--no-sack: SACK retransmissions counted"
grep -qE 'server: .* 0 SACK/RACK$' "$out" || fail "--no-sack: SACK retransmissions counted"

# -- reordering, duplication, corruption ---------------------------------------
for seed in 1 2 3 4 5; do
    run demo --ascii --reorder 5 --dup 5 --corrupt 2 --seed "$seed" --bytes 30000
    expect_full_run "--reorder 5 --dup 5 --corrupt 2 --seed $seed"
done
run demo --ascii --reorder 5 --dup 5 --corrupt 2 --seed 2 --bytes 30000
expect_out "5% reordered, 5% duplicated, 2% corrupted" "impairments: the intro"
expect_count_min ' late' 1 "--reorder 5: a late segment"
expect_count_min ' x2' 1 "--dup 5: a segment delivered twice"
expect_count_min ' corrupt' 1 "--corrupt 2: a corrupted segment"
expect_out "dropped: tcp: bad checksum" "--corrupt 2: the drop"
expect_count_min '[1-9][0-9]* reordered, [1-9][0-9]* duplicated, [1-9][0-9]* corrupted' 1 \
    "impairments: the wire line"

# -- congestion control, latency, rate -----------------------------------------
for cc in newreno cubic; do
    run demo --ascii --cc "$cc" --loss 2 --seed 4 --bytes 100000
    expect_full_run "--cc $cc"
done
expect_out "TCP: CUBIC congestion control" "--cc cubic"

run demo --ascii --link ip --delay-ms 50
expect_full_run "--delay-ms 50"
expect_out "link: 50 ms one way, 100 Mbit/s" "--delay-ms 50"
# The SYN leaves at 0 and arrives 50 ms later; the SYN-ACK leaves then.
expect_count_min '^ +50\.[0-9]{3} .*\[SYN,ACK\]' 1 "--delay-ms 50"

run demo --quiet --link ip --delay-ms 0 --rate-mbit 1 --bytes 100000
expect_rc 0 "--rate-mbit 1" && {
    gp=$(sed -n 's/^  goodput \([0-9.]*\) Mbit\/s.*/\1/p' "$out")
    awk -v g="$gp" 'BEGIN { exit !(g > 0.3 && g < 1.0) }' ||
        fail "--rate-mbit 1: goodput '$gp' Mbit/s, want between 0.3 and 1"
}

# -- large transfers stay readable ---------------------------------------------
run demo --ascii --bytes 1000000
expect_full_run "--bytes 1000000"
expect_out "echoed 1000013/1000013 bytes" "--bytes 1000000"
expect_out " more segments (" "--bytes 1000000"
lines=$(wc -l <"$out")
[ "$lines" -lt 150 ] || fail "--bytes 1000000 printed $lines lines, want < 150"

# Losses and retransmissions are shown one by one only up to a budget.
run demo --ascii --bytes 1000000 --loss 1 --seed 1
lines=$(wc -l <"$out")
[ "$lines" -lt 400 ] || fail "--bytes 1000000 --loss 1 printed $lines lines, want < 400"
grep -qE '^(ok|FAILED): echoed' "$out" || fail "--bytes 1000000 --loss 1: no summary"

run demo --quiet --bytes 1000000
expect_rc 0 "--quiet" && {
    lines=$(wc -l <"$out")
    [ "$lines" -eq 5 ] || fail "--quiet printed $lines lines, want 5 (the summary)"
    expect_out "ok: echoed 1000013/1000013 bytes, matched" "--quiet"
    expect_summary "--quiet"
}

run demo --quiet --bytes 0
expect_rc 0 "--bytes 0" && expect_out "echoed 13/13 bytes" "--bytes 0"

# -- help and bad arguments ------------------------------------------------------
run --help
expect_rc 0 "--help" && expect_out "usage: ustack" "--help"
run help demo
expect_rc 0 "help demo" && expect_out "usage: ustack demo" "help demo"
run demo --help
expect_rc 0 "demo --help" && expect_out "--close WHO" "demo --help"

bad_args() { # ARGS...: exit 2 and the usage on stderr, nothing on stdout
    run "$@"
    if [ "$rc" -ne 2 ]; then
        fail "'$*': exit status $rc, want 2"
    elif ! grep -q "usage: ustack" "$err"; then
        fail "'$*': no usage on stderr"
    elif [ -s "$out" ]; then
        fail "'$*': printed on stdout"
    fi
}
# After a bad argument: the message, the synopsis and a pointer to --help;
# not the whole help, which would scroll the message away. A negative
# number is out of range, not "not a number".
run demo --loss -1
expect_rc 2 "--loss -1"
grep -qF -- "--loss: '-1' is out of range (0..100)" "$err" ||
    fail "--loss -1: stderr does not say out of range"
grep -qF -- "(--help lists every option)" "$err" ||
    fail "--loss -1: no pointer to --help"
[ "$(wc -l <"$err")" -le 4 ] || fail "--loss -1: the whole help on stderr"
bad_args
bad_args frobnicate
bad_args help frobnicate
bad_args demo --bytes
bad_args demo --bytes abc
bad_args demo --bytes -1
bad_args demo --bytes +5
bad_args demo --bytes 1e3
bad_args demo --bytes 0x10
bad_args demo --bytes ""
bad_args demo --bytes 100000001
bad_args demo --bytes 99999999999999999999999
bad_args demo --seed 1.5
bad_args demo --loss 101
bad_args demo --loss -1
bad_args demo --loss nan
bad_args demo --loss inf
bad_args demo --loss 1.2.3
bad_args demo --loss 5%
bad_args demo --close nobody
bad_args demo --close
bad_args demo --link wifi
bad_args demo --pcap ""
bad_args demo --bogus
bad_args demo extra
for opt in --reorder --dup --corrupt; do
    bad_args demo "$opt" 101
    bad_args demo "$opt" -1
    bad_args demo "$opt" abc
    bad_args demo "$opt" 5%
    bad_args demo "$opt" ""
    bad_args demo "$opt"
done
bad_args demo --delay-ms 10001
bad_args demo --delay-ms 1.5
bad_args demo --delay-ms -10
bad_args demo --delay-ms
bad_args demo --rate-mbit 0
bad_args demo --rate-mbit 100001
bad_args demo --rate-mbit 2.5
bad_args demo --rate-mbit fast
bad_args demo --cc reno
bad_args demo --cc CUBIC
bad_args demo --cc ""
bad_args demo --cc
bad_args demo --no-sack=1
bad_args demo --no-sack yes
bad_args demo --quiet=1
# An option that wants a value does not swallow the option after it.
bad_args demo --pcap --quiet
grep -qF -- "--pcap needs a value, not the option '--quiet'" "$err" ||
    fail "'demo --pcap --quiet': the message does not say the value is missing"
bad_args demo --bytes --quiet
bad_args demo --seed -q
bad_args bench goodput --seeds --json
run demo --quiet --bytes=2000 --loss=0.5 --close=server --link=ip --seed=7
expect_rc 0 "--opt=value forms" && expect_out "echoed 2013/2013 bytes" "--opt=value forms"
run demo --quiet --bytes=2000 --reorder=1 --dup=1 --corrupt=0.5 --delay-ms=5 --rate-mbit=10 \
    --cc=cubic --no-sack --seed=7
expect_rc 0 "new options, --opt=value forms" &&
    expect_out "echoed 2013/2013 bytes" "new options, --opt=value forms"
# Each new option on its own, at the edges of its range.
for args in "--reorder 0" "--reorder 100" "--dup 0" "--dup 100" "--corrupt 0" \
    "--corrupt 0.5" "--delay-ms 0" "--delay-ms 10000" "--rate-mbit 1" \
    "--rate-mbit 100000" "--cc newreno" "--cc cubic" "--no-sack"; do
    # shellcheck disable=SC2086 # split on purpose
    run demo --quiet --link ip --bytes 2000 $args
    expect_rc 0 "$args" && expect_out "echoed 2013/2013 bytes" "$args"
done

# -- the bench command's arguments (the benches are programs, not tests) -------
run bench --help
expect_rc 0 "bench --help" && expect_out "goodput" "bench --help"
run help bench
expect_rc 0 "help bench" && expect_out "usage: ustack bench" "help bench"
run bench goodput --help
expect_rc 0 "bench goodput --help" && expect_out "--json" "bench goodput --help"
bad_args bench
bad_args bench frobnicate
bad_args bench goodput --bogus
bad_args bench goodput --seeds 0
bad_args bench goodput --seeds 16
bad_args bench goodput --jobs 0
bad_args bench goodput --max-bytes 999
bad_args bench goodput --rtts x
# A tiny table: every cell present, and the JSON has one object per cell.
run bench goodput --max-bytes 20000 --seeds 1 --jobs 2
expect_rc 0 "bench goodput (tiny)" && {
    expect_count_min '^(newreno|cubic) +(on|off) ' 20 "bench goodput (tiny)"
    expect_out "wall time" "bench goodput (tiny)"
}
run bench goodput --max-bytes 20000 --seeds 1 --json
expect_rc 0 "bench goodput --json" && {
    n=$(grep -c '^{"cc":"[a-z]*","sack":[a-z]*,"loss_pct":' "$out")
    [ "$n" -eq 60 ] || fail "bench goodput --json: $n objects, want 60"
}

# A link that loses everything: the run fails (1) and says why.
run demo --quiet --loss 100
[ "$rc" -eq 1 ] || fail "--loss 100: exit status $rc, want 1"
grep -q "^FAILED: echoed 0/" "$out" || fail "--loss 100: no FAILED summary"
grep -q "^ustack demo: " "$err" || fail "--loss 100: no reason on stderr"

# An unwritable capture file is a failure of the run (1), not of the arguments.
run demo --quiet --pcap "$tmp/no/such/dir/x.pcap"
[ "$rc" -eq 1 ] || fail "--pcap into a missing directory: exit status $rc, want 1"

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all demo checks passed"
