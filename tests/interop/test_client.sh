#!/usr/bin/env bash
# 4. ustack as the client of Linux servers: `ustack connect` sends an HTTP
# request to `python3 -m http.server` and downloads a 10 MB file (the body
# after the headers has the file's sha256), and takes 10 MB from a socat
# server that sends a file and closes (over TUN).
. "$(dirname "$0")/lib.sh"
setup client
need_tool python3 python3
need_tool socat socat

make_ns ns
add_dev "$ns" tap tap0 10.77.6.1/24
add_dev "$ns" tun tun0 10.77.7.1/24
mkdir -p "$tmp/www"
head -c 10485760 /dev/urandom >"$tmp/www/file.bin"
want=$(sha "$tmp/www/file.bin")

# -- HTTP from python3 -m http.server --------------------------------------------
bg http ip netns exec "$ns" python3 -m http.server 8080 --bind 10.77.6.1 --directory "$tmp/www"
wait_tcp_listen "$ns" 8080
t0=$(now_ms)
printf 'GET /file.bin HTTP/1.0\r\nHost: 10.77.6.1\r\n\r\n' |
    ip netns exec "$ns" timeout 60 "$ustack" connect -v --tap tap0 --ip 10.77.6.2/24 \
        10.77.6.1 8080 >"$tmp/resp" 2>"$tmp/connect.err"
rc=$?
t1=$(now_ms)
# The body starts after the first empty line.
python3 -c '
import sys
d = open(sys.argv[1], "rb").read()
i = d.find(b"\r\n\r\n")
sys.stdout.buffer.write(d[i + 4:] if i >= 0 else b"")
' "$tmp/resp" >"$tmp/body"
if [ "$rc" -ne 0 ]; then
    fail "HTTP download: ustack connect exited $rc"
    show "$tmp/connect.err"
elif ! head -c 200 "$tmp/resp" | grep -q "^HTTP/1.0 200"; then
    fail "HTTP download: no 200 status line"
elif [ "$(sha "$tmp/body")" != "$want" ]; then
    fail "HTTP download: the body's sha256 differs ($(stat -c %s "$tmp/body") bytes)"
else
    note "HTTP download of 10 MB from python3 http.server: sha256 equal, $(rate 10485760 $((t1 - t0)))"
fi
grep -q "final state" "$tmp/connect.err" || fail "connect -v: no final state reported"

# -- a socat server that sends a file and closes ---------------------------------------
bg src ip netns exec "$ns" socat -u OPEN:"$tmp/www/file.bin" TCP-LISTEN:9000,reuseaddr
wait_tcp_listen "$ns" 9000
t0=$(now_ms)
ip netns exec "$ns" timeout 60 "$ustack" connect --tun tun0 --ip 10.77.7.2/24 \
    10.77.7.1 9000 </dev/null >"$tmp/got" 2>"$tmp/connect2.err"
rc=$?
t1=$(now_ms)
if [ "$rc" -ne 0 ]; then
    fail "socat download over tun: ustack connect exited $rc"
    show "$tmp/connect2.err"
elif [ "$(sha "$tmp/got")" != "$want" ]; then
    fail "socat download over tun: sha256 differs"
else
    note "10 MB from socat over tun: sha256 equal, $(rate 10485760 $((t1 - t0)))"
fi

finish
