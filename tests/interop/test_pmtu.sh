#!/usr/bin/env bash
# 14. Path MTU discovery through a Linux router. ustack sits on a TAP
# device in namespace R; R forwards to a Linux host in namespace H over a
# veth pair, by a route that takes only 1280-byte packets. Both ends
# announce an MSS of 1460, so ustack's full-sized segments reach R, which
# refuses them with ICMP "fragmentation needed" (RFC 1191). ustack sends
# 10 MB to an echo server on H and must get it all back (sha256), with its
# segments cut to the path: plain frames, then with virtio-net headers
# (TSO, which R's Linux checks segment by segment). R's ICMP counters
# show the errors it sent.
. "$(dirname "$0")/lib.sh"
setup pmtu
need_tool socat socat
need_tool tshark tshark

size=$((10 * 1024 * 1024))
head -c "$size" /dev/urandom >"$tmp/data"
want=$(sha "$tmp/data")
make_ns r
make_ns h

add_dev "$r" tap tap0 10.77.12.1/24
add_router "$r" "$h" 10.77.13 10.77.12
ip -n "$r" route replace 10.77.13.0/24 dev vr src 10.77.13.1 mtu 1280 || {
    echo "FAIL: cannot set up the router"
    exit 1
}
# Linux's own PMTU cache must not help H: its replies to ustack go through
# R on the wide route and need nothing.
bg echo ip netns exec "$h" socat -b 65536 -t 60 TCP-LISTEN:7009,reuseaddr,fork EXEC:cat
wait_tcp_listen "$h" 7009

run() {
    local what=$1 t0 t1 rc mss
    shift
    local err="$tmp/connect_$what.err"
    t0=$(now_ms)
    ip netns exec "$r" timeout 120 "$ustack" connect --tap tap0 \
        --ip 10.77.12.2/24 --gateway 10.77.12.1 --verbose "$@" \
        10.77.13.2 7009 <"$tmp/data" >"$tmp/back" 2>"$err"
    rc=$?
    t1=$(now_ms)
    check_echo "$tmp/back" "$rc" "ustack -> router (MTU 1280) -> Linux echo, $what" "$t0" "$t1"
    rm -f "$tmp/back"
    # The end of the run says the MSS in use: 1280 less 40 bytes of
    # headers and 12 of timestamps.
    mss=$(sed -n 's/.*tcp: mss \([0-9]*\),.*/\1/p' "$err" | tail -1)
    if [ "$mss" = 1228 ]; then
        note "$what: the connection ended with an MSS of $mss"
    else
        fail "$what: MSS at the end '$mss', want 1228"
        show "$err"
    fi
}

# R's count of "destination unreachable" messages sent (all of them
# "fragmentation needed" here: nothing else is refused on this path).
unreach_sent() {
    ip netns exec "$r" awk '/^Icmp:/ { if (!h) { split($0, k); h = 1 }
        else { split($0, v); for (i in k) if (k[i] == "OutDestUnreachs") print v[i] } }' \
        /proc/net/snmp
}

# Only ICMP and frames over 1280 bytes of IP: the 10 MB of segments that
# fit the path would crowd the capture.
start_capture "$r" tap0 "$tmp/r.pcap" cap 128 "icmp or greater 1295"
u0=$(unreach_sent)
run "plain frames"
run "virtio-net headers (TSO)" --vnet-hdr
u1=$(unreach_sent)
stop_capture "$tmp/r.pcap"

# Each run started afresh (a new process) and learnt the path (the MSS
# above says so), from R's "fragmentation needed": R counts them.
if [ "$((u1 - u0))" -ge 2 ]; then
    note "R sent $((u1 - u0)) ICMP \"fragmentation needed\" (at least one per run)"
else
    fail "R sent $((u1 - u0)) ICMP \"destination unreachable\", want one per run at least"
fi
# For the record, what the capture on R's side of the device holds. It
# is not asserted: each run's ustack brings the device's carrier up when
# it attaches, and what Linux passes the capture in the moment after that
# may be lost (see start_capture in lib.sh); a fast run is over by then.
n=$(tshark -r "$tmp/r.pcap" -Y "icmp.type == 3 && icmp.code == 4 && icmp.mtu == 1280" 2>/dev/null | wc -l)
note "the capture holds $n ICMP \"fragmentation needed\" naming 1280"
big=$(tshark -r "$tmp/r.pcap" -Y "ip.src == 10.77.12.2 && ip.len > 1280" 2>/dev/null | wc -l)
note "packets from ustack larger than 1280 bytes on the device: $big"

finish
