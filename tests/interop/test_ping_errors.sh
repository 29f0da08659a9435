#!/usr/bin/env bash
# 15. ICMP errors to `ustack ping`, through a Linux router. ustack sits on
# a TAP device in namespace R, which forwards to a Linux host in namespace
# H over a veth pair. Each error must be reported as ping(8) reports it:
# "From" the router (or host) that sent it, with the sequence number of
# the request it quotes, that request alone counted as an error:
# - with -t 1 R cannot forward: "Time to live exceeded" from R;
# - R's `unreachable` and `prohibit` routes: "Destination Host
#   Unreachable" and "Packet filtered" from R;
# - a responder on H that answers requests 1 and 3 and sends "time
#   exceeded" for 2 and 4, only after all four are in: two replies, two
#   errors (a tool that took an error for all outstanding requests would
#   count four).
# (ARP giving up, an error from our own address, is test_ping's.)
. "$(dirname "$0")/lib.sh"
setup pingerr
need_tool python3 python3

make_ns r
make_ns h
add_dev "$r" tap tap0 10.77.20.1/24
add_router "$r" "$h" 10.77.21 10.77.20
ip -n "$r" route add unreachable 10.77.22.0/24 &&
    ip -n "$r" route add prohibit 10.77.23.0/24 &&
    ip netns exec "$r" sysctl -qw net.ipv4.icmp_ratelimit=0 || {
    echo "FAIL: cannot set up the router"
    exit 1
}

# uping ADDR LOG ARGS...: ustack ping from ADDR through R; exit status
# into $rc. Linux limits the errors it sends to a host: ip_error() (the
# routes' errors) allows a burst of 5, from a record that icmp_send()
# (TTL exceeded) resets, so each kind goes to an address of its own.
uping() {
    local addr=$1 log=$2
    shift 2
    ip netns exec "$r" timeout 30 "$ustack" ping --tap tap0 \
        --ip "$addr/24" --gateway 10.77.20.1 "$@" >"$log" 2>&1
    rc=$?
}

# expect_errors LOG WHAT N FROM TEXT SELF: exit 1, requests 1..N each
# reported once "From FROM icmp_seq=K TEXT", N errors in the summary, and
# no line from our own address SELF.
expect_errors() {
    local log=$1 what=$2 n=$3 from=$4 text=$5 self=$6 seq bad=0
    [ "$rc" -eq 1 ] || { fail "$what: exit $rc, want 1"; bad=1; }
    for seq in $(seq "$n"); do
        [ "$(grep -cx "From $from icmp_seq=$seq $text" "$log")" -eq 1 ] ||
            { fail "$what: request $seq not reported once as \"From $from ... $text\""; bad=1; }
    done
    grep -q "$n packets transmitted, 0 received, +$n errors, 100% packet loss" "$log" ||
        { fail "$what: the summary does not count $n errors"; bad=1; }
    grep -q "^From $self " "$log" &&
        { fail "$what: an error is reported from our own address"; bad=1; }
    if [ "$bad" -eq 0 ]; then
        note "$what: $n x \"From $from icmp_seq=K $text\""
    else
        show "$log"
    fi
}

# Through the router, replies come back.
uping 10.77.20.2 "$tmp/through" -c 2 -i 0.2 10.77.21.2
if [ "$rc" -ne 0 ] || ! grep -q "2 packets transmitted, 2 received, 0% packet loss" "$tmp/through"; then
    fail "ping through the router: exit $rc, want 2 replies"
    show "$tmp/through"
else
    note "through the router: 2 replies"
fi

# TTL 1: R may not forward it (RFC 1812 §5.3.1) and says so.
uping 10.77.20.2 "$tmp/ttl1" -t 1 -c 3 -i 0.2 -W 3 10.77.21.2
expect_errors "$tmp/ttl1" "-t 1" 3 10.77.20.1 "Time to live exceeded" 10.77.20.2
# TTL 2 is enough to reach H.
uping 10.77.20.2 "$tmp/ttl2" -t 2 -c 2 -i 0.2 10.77.21.2
[ "$rc" -eq 0 ] && grep -q "2 packets transmitted, 2 received" "$tmp/ttl2" &&
    note "-t 2: 2 replies" ||
    { fail "-t 2: exit $rc, want 2 replies"; show "$tmp/ttl2"; }

uping 10.77.20.3 "$tmp/unreach" -c 2 -i 0.2 -W 3 10.77.22.5
expect_errors "$tmp/unreach" "unreachable route" 2 10.77.20.1 "Destination Host Unreachable" 10.77.20.3
uping 10.77.20.4 "$tmp/prohibit" -c 2 -i 0.2 -W 3 10.77.23.5
expect_errors "$tmp/prohibit" "prohibit route" 2 10.77.20.1 "Packet filtered" 10.77.20.4

# H's kernel stops answering; a responder on a raw socket waits for four
# requests, then answers 2 with "time exceeded" (quoting it: its IP
# header and 8 bytes), 1 and 3 with replies, and 4 with "time exceeded".
ip netns exec "$h" sysctl -qw net.ipv4.icmp_echo_ignore_all=1
cat >"$tmp/responder.py" <<'EOF'
import socket, struct

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF

def icmp(type_, rest, data):
    m = struct.pack("!BBHI", type_, 0, 0, rest) + data
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]

sk = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
print("ready", flush=True)
got = {}
while len(got) < 4:
    pkt, (src, _) = sk.recvfrom(65535)
    ihl = (pkt[0] & 15) * 4
    m = pkt[ihl:]
    if m[0] != 8:
        continue
    seq = struct.unpack("!H", m[6:8])[0]
    got[seq] = (src, pkt, ihl, m)
for seq in (2, 1, 3, 4):
    src, pkt, ihl, m = got[seq]
    if seq % 2:
        out = icmp(0, struct.unpack("!I", m[4:8])[0], m[8:])
    else:
        out = icmp(11, 0, pkt[: ihl + 8])
    sk.sendto(out, (src, 0))
    print("answered", seq, flush=True)
EOF
bg responder ip netns exec "$h" timeout 30 python3 "$tmp/responder.py"
resp_pid=$last_pid
wait_line "$resp_pid" "$tmp/responder.out" "ready" 100 ||
    { echo "FAIL: the responder did not start"; show "$tmp/responder.err"; exit 1; }
uping 10.77.20.2 "$tmp/mixed" -c 4 -i 0.1 -W 3 10.77.21.2
bad=0
[ "$rc" -eq 1 ] || { fail "mixed: exit $rc, want 1"; bad=1; }
for seq in 2 4; do
    [ "$(grep -cx "From 10.77.21.2 icmp_seq=$seq Time to live exceeded" "$tmp/mixed")" -eq 1 ] ||
        { fail "mixed: request $seq not reported once as an error from H"; bad=1; }
done
for seq in 1 3; do
    grep -q "^64 bytes from 10.77.21.2: icmp_seq=$seq " "$tmp/mixed" ||
        { fail "mixed: no reply to request $seq"; bad=1; }
    grep -q "icmp_seq=$seq .*exceeded" "$tmp/mixed" &&
        { fail "mixed: request $seq, answered, reported as an error"; bad=1; }
done
grep -q "4 packets transmitted, 2 received, +2 errors, 50% packet loss" "$tmp/mixed" ||
    { fail "mixed: the summary does not say 2 received and 2 errors"; bad=1; }
if [ "$bad" -eq 0 ]; then
    note "mixed: requests 1 and 3 answered, 2 and 4 errors from H, counted alone"
else
    show "$tmp/mixed"
    show "$tmp/responder.out"
fi

finish
