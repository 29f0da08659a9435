#!/usr/bin/env bash
# 8. Whoever closes first ends in TIME-WAIT:
#   a) Linux closes first (a client of `ustack serve --echo`): `ss -tan`
#      shows Linux's socket in TIME-WAIT; ustack's ladder shows its side
#      going CLOSE-WAIT -> LAST-ACK -> CLOSED;
#   b) ustack closes first (`ustack connect` at the end of its input, to a
#      Linux server that closes when it has read everything): ustack reports
#      its final state TIME-WAIT, and Linux's socket is gone;
#   c) ustack's HTTP server closes first (HTTP/1.0): its ladder shows
#      TIME-WAIT, and curl's socket is gone.
. "$(dirname "$0")/lib.sh"
setup timewait
need_tool python3 python3
need_tool ss iproute2
need_tool curl curl

make_ns ns
add_dev "$ns" tap tap0 10.77.12.1/24
mkdir -p "$tmp/www"
echo "closing first" >"$tmp/www/index.html"

# no_socket PORT: Linux has no TCP socket on PORT, in any state.
no_socket() {
    ip netns exec "$ns" ss -Htan "( sport = :$1 or dport = :$1 )" | grep -q . && return 1
    return 0
}

# -- a) Linux closes first -------------------------------------------------------------
start_serve "$ns" serve --tap tap0 --ip 10.77.12.2/24 --echo 7 --http 80 \
    --root "$tmp/www" --trace --ascii
ip netns exec "$ns" timeout 20 python3 -c '
import socket
s = socket.create_connection(("10.77.12.2", 7), 5)
s.sendall(b"bye\n")
assert s.recv(100) == b"bye\n"
s.close()                       # our FIN first
' || fail "a) the echo client failed"
tw=""
for _ in $(seq 40); do
    tw=$(ip netns exec "$ns" ss -Htan state time-wait "( dport = :7 )")
    [ -n "$tw" ] && break
    sleep 0.05
done
[ -n "$tw" ] && note "a) Linux closed first: $(echo "$tw" | awk '{print "TIME-WAIT", $(NF-1), "->", $NF}')" ||
    { fail "a) Linux closed first but has no socket in TIME-WAIT"; ip netns exec "$ns" ss -tan; }

# -- c) ustack's HTTP server closes first ---------------------------------------------------
ip netns exec "$ns" timeout 20 curl -s -0 --local-port 40123 -o /dev/null "http://10.77.12.2/" ||
    fail "c) curl failed"
sleep 0.2
no_socket 40123 || { fail "c) ustack closed first, yet curl's socket remains"; ip netns exec "$ns" ss -tan; }
stop "$serve_pid"
# Each ladder starts with a "-- connection" line; the echo's is the first.
awk '/^-- connection/ { n++ } n == 1' "$tmp/serve.out" >"$tmp/ladder_a"
awk '/^-- connection/ { n++ } n == 2' "$tmp/serve.out" >"$tmp/ladder_c"
grep -q "CLOSE-WAIT -> LAST-ACK" "$tmp/ladder_a" && grep -q "LAST-ACK -> CLOSED" "$tmp/ladder_a" ||
    { fail "a) ustack's ladder lacks CLOSE-WAIT -> LAST-ACK -> CLOSED"; show "$tmp/ladder_a"; }
grep -q "FIN-WAIT-2" "$tmp/ladder_c" && grep -qE "TIME-WAIT +\|" "$tmp/ladder_c" ||
    { fail "c) ustack's HTTP ladder does not end in TIME-WAIT"; show "$tmp/ladder_c"; }
grep -q "TIME-WAIT" "$tmp/ladder_c" && note "c) ustack's HTTP server closed first: its ladder ends in TIME-WAIT; curl's socket is gone"

# -- b) ustack closes first -------------------------------------------------------------------
bg server ip netns exec "$ns" python3 -c '
import socket
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("10.77.12.1", 5002)); l.listen(1)
c, _ = l.accept()
while c.recv(4096):
    pass                        # until ustack FIN
c.sendall(b"ok\n")
c.close()
'
server_pid=$last_pid
wait_tcp_listen "$ns" 5002
echo hello | ip netns exec "$ns" timeout 20 "$ustack" connect -v --tap tap0 \
    --ip 10.77.12.2/24 10.77.12.1 5002 >"$tmp/b.out" 2>"$tmp/b.err"
rc=$?
wait "$server_pid"
if [ "$rc" -ne 0 ] || [ "$(cat "$tmp/b.out")" != "ok" ]; then
    fail "b) ustack connect: exit $rc, output '$(cat "$tmp/b.out")'"
    show "$tmp/b.err"
elif ! grep -q "final state TIME-WAIT" "$tmp/b.err"; then
    fail "b) ustack closed first but its final state is not TIME-WAIT"
    show "$tmp/b.err"
else
    note "b) ustack closed first: $(grep -o 'final state .*' "$tmp/b.err")"
fi
sleep 0.2
no_socket 5002 || { fail "b) Linux's socket remains after ustack closed first"; ip netns exec "$ns" ss -tan; }

finish
