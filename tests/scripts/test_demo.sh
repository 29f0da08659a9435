#!/usr/bin/env bash
# `ustack demo` end to end: every close variant, the raw-IP link, loss with
# retransmissions, large transfers staying readable, strict arguments.
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

# A full run: it succeeded, the summary says so, and the handshake, the
# teardown and TIME-WAIT are all in the ladder.
expect_full_run() { # DESCRIPTION
    expect_rc 0 "$1" || return
    expect_out "ok: echoed" "$1"
    expect_out "matched" "$1"
    expect_out "both sides CLOSED" "$1"
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
expect_out "FIN-WAIT-2" "default demo"
expect_out "LAST-ACK" "default demo"
expect_out "echoed 4109/4109 bytes" "default demo"
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

# -- loss: still correct, retransmissions visible ------------------------------
for seed in 1 2 3; do
    run demo --ascii --loss 10 --seed "$seed" --bytes 30000
    expect_full_run "--loss 10 --seed $seed"
    expect_count_min ' rtx' 1 "--loss 10 --seed $seed"
    expect_count_min ' LOST' 1 "--loss 10 --seed $seed"
done

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
    [ "$lines" -eq 1 ] || fail "--quiet printed $lines lines, want 1"
    expect_out "ok: echoed 1000013/1000013 bytes, matched" "--quiet"
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
run demo --quiet --bytes=2000 --loss=0.5 --close=server --link=ip --seed=7
expect_rc 0 "--opt=value forms" && expect_out "echoed 2013/2013 bytes" "--opt=value forms"

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
