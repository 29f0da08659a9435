#!/usr/bin/env bash
# 7. Half-close. Linux shuts its sending side first and ustack keeps
# sending; every byte arrives, then both close:
#   a) a Linux server shuts its write side as soon as it accepts; `ustack
#      connect` still sends 10 MB, which the server reads to the end; ustack
#      sees the peer's FIN first (CLOSE-WAIT), sends its own at the end of
#      input and ends CLOSED; Linux, which closed first, is in TIME-WAIT;
#   b) a Linux client sends 10 MB to `ustack serve --echo` and shuts its
#      write side while the echo is still coming; ustack goes on sending
#      the rest of the echo after Linux's FIN, then closes.
. "$(dirname "$0")/lib.sh"
setup halfclose
need_tool python3 python3
need_tool ss iproute2

make_ns ns
add_dev "$ns" tap tap0 10.77.11.1/24
size=10485760
head -c "$size" /dev/urandom >"$tmp/data"
want=$(sha "$tmp/data")

# -- a) the Linux server closes its side first -----------------------------------------
bg server ip netns exec "$ns" python3 -c '
import hashlib, socket
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("10.77.11.1", 5001)); l.listen(1)
c, _ = l.accept()
c.shutdown(socket.SHUT_WR)          # our FIN goes first
h = hashlib.sha256(); n = 0
while True:
    b = c.recv(65536)
    if not b: break
    h.update(b); n += len(b)
print(n, h.hexdigest(), flush=True)
c.close()
'
server_pid=$last_pid
wait_tcp_listen "$ns" 5001
ip netns exec "$ns" timeout 60 "$ustack" connect -v --tap tap0 --ip 10.77.11.2/24 \
    10.77.11.1 5001 <"$tmp/data" >"$tmp/a.out" 2>"$tmp/a.err"
rc=$?
wait "$server_pid"
read -r n got <"$tmp/server.out"
if [ "$rc" -ne 0 ]; then
    fail "a) ustack connect exited $rc"
    show "$tmp/a.err"
elif [ "${n:-0}" -ne "$size" ] || [ "$got" != "$want" ]; then
    fail "a) the Linux server read ${n:-0} bytes (sha256 ${got:-none}), want $size"
else
    note "a) Linux shut its side at once; ustack still sent all $size bytes (sha256 equal)"
fi
[ -s "$tmp/a.out" ] && fail "a) ustack wrote bytes to stdout, but the peer sent none"
# The peer's FIN came before the end of ustack's input.
awk '/the peer closed its side/ { p = NR } /end of input/ { e = NR }
     END { exit !(p && e && p < e) }' "$tmp/a.err" ||
    { fail "a) ustack did not see the peer's FIN before its own end of input"; show "$tmp/a.err"; }
grep -q "final state CLOSED" "$tmp/a.err" ||
    { fail "a) ustack's final state is not CLOSED (it closed second)"; show "$tmp/a.err"; }
ip netns exec "$ns" ss -Htan state time-wait | grep -q "10.77.11.1:5001 " ||
    { fail "a) Linux's socket (closed first) is not in TIME-WAIT"; ip netns exec "$ns" ss -tan; }

# -- b) the Linux client closes its side while the echo still flows --------------------------
start_serve "$ns" serve --tap tap0 --ip 10.77.11.2/24 --echo 7 --trace --ascii
ip netns exec "$ns" timeout 60 python3 -c '
import hashlib, socket, sys, threading
data = open(sys.argv[1], "rb").read()
s = socket.create_connection(("10.77.11.2", 7), 5)
def send():
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)      # our FIN, with echo still to come
    sent.set()
sent = threading.Event()
t = threading.Thread(target=send); t.start()
h = hashlib.sha256(); n = after = 0
while True:
    b = s.recv(65536)
    if not b: break
    h.update(b); n += len(b)
    if sent.is_set(): after += len(b)
t.join(); s.close()
print(n, h.hexdigest(), after)
' "$tmp/data" >"$tmp/b.out"
rc=$?
read -r n got after <"$tmp/b.out"
if [ "$rc" -ne 0 ] || [ "${n:-0}" -ne "$size" ] || [ "$got" != "$want" ]; then
    fail "b) the echo after Linux's half-close: exit $rc, ${n:-0} bytes, want $size intact"
else
    note "b) Linux shut its side; ustack echoed all $size bytes ($after of them after Linux's FIN)"
fi
stop "$serve_pid"
grep -q "CLOSE-WAIT" "$tmp/serve.out" ||
    fail "b) the ladder never shows ustack in CLOSE-WAIT (sending after the peer's FIN)"
grep -q "LAST-ACK -> CLOSED" "$tmp/serve.out" ||
    fail "b) the ladder does not show ustack's connection ending LAST-ACK -> CLOSED"

finish
