#!/usr/bin/env bash
# 5. A connection to a closed port, both ways: Linux connecting to a port
# where ustack has no listener gets "connection refused" (ustack answers the
# SYN with a RST and counts it), and `ustack connect` to a closed Linux port
# reports "connection refused" and exits 1. Also: no answer at all (a host
# that is not there) ends in an error and exit 1, not a hang.
. "$(dirname "$0")/lib.sh"
setup refused
need_tool python3 python3
need_tool curl curl

make_ns ns
add_dev "$ns" tap tap0 10.77.8.1/24

# -- Linux -> ustack, closed port ---------------------------------------------------
start_serve "$ns" serve --tap tap0 --ip 10.77.8.2/24 --echo 7 --trace --ascii
out=$(ip netns exec "$ns" timeout 20 python3 -c '
import socket
try:
    socket.create_connection(("10.77.8.2", 81), 5)
    print("connected")
except ConnectionRefusedError:
    print("refused")
except Exception as e:
    print("other:", e)
')
[ "$out" = "refused" ] && note "Linux -> ustack port 81: connection refused" ||
    fail "Linux -> ustack port 81: '$out', want 'refused'"
ip netns exec "$ns" timeout 20 curl -sS "http://10.77.8.2:82/" >/dev/null 2>"$tmp/curl.err"
rc=$?
# curl's exit status 7: "failed to connect" (its message varies by version).
[ "$rc" -eq 7 ] || { fail "curl to a closed ustack port: exit $rc, want 7"; show "$tmp/curl.err"; }
# The open port still works.
echo ping | ip netns exec "$ns" timeout 20 python3 -c '
import socket, sys
s = socket.create_connection(("10.77.8.2", 7), 5)
s.sendall(b"ping\n"); s.shutdown(socket.SHUT_WR)
d = b""
while True:
    b = s.recv(100)
    if not b: break
    d += b
sys.exit(0 if d == b"ping\n" else 1)' || fail "the echo port next to the closed ones does not work"
stop "$serve_pid"
grep -qE "; [1-9][0-9]* resets sent" "$tmp/serve.out" ||
    { fail "serve's counters show no reset sent"; show "$tmp/serve.out"; }

# -- ustack -> Linux, closed port ---------------------------------------------------------
ip netns exec "$ns" timeout 20 "$ustack" connect --tap tap0 --ip 10.77.8.2/24 \
    10.77.8.1 81 </dev/null >"$tmp/c.out" 2>"$tmp/c.err"
rc=$?
if [ "$rc" -ne 1 ]; then
    fail "ustack connect to a closed port: exit $rc, want 1"
elif ! grep -q "10.77.8.1:81: connect: connection refused" "$tmp/c.err"; then
    fail "ustack connect to a closed port: no 'connection refused'"
    show "$tmp/c.err"
else
    note "ustack -> Linux port 81: $(head -1 "$tmp/c.err")"
fi

# -- ustack -> nobody: ARP gets no answer -------------------------------------------------
t0=$(now_ms)
ip netns exec "$ns" timeout 60 "$ustack" connect --tap tap0 --ip 10.77.8.2/24 \
    10.77.8.99 80 </dev/null >"$tmp/n.out" 2>"$tmp/n.err"
rc=$?
t1=$(now_ms)
if [ "$rc" -ne 1 ]; then
    fail "ustack connect to nobody: exit $rc, want 1"
    show "$tmp/n.err"
else
    note "ustack -> 10.77.8.99 (nobody): $(head -1 "$tmp/n.err") after $((t1 - t0)) ms"
fi

finish
