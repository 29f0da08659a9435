#!/usr/bin/env bash
# 2. curl downloads a 10 MB file from `ustack serve --http` over TAP: the
# sha256 matches. Also: 50 downloads at once, persistent connections, HEAD,
# 404, 405, a directory without its '/' redirected (301), Content-Type
# from the file served, directory traversal (".." and a symbolic link out of the root)
# refused, and on SIGINT a graceful stop that prints the counters.
. "$(dirname "$0")/lib.sh"
setup http
need_tool curl curl

make_ns ns
add_dev "$ns" tap tap0 10.77.3.1/24
mkdir -p "$tmp/www/sub" "$tmp/www/empty"
head -c 10485760 /dev/urandom >"$tmp/www/big.bin"
echo "hello from ustack" >"$tmp/www/index.html"
echo "in a directory" >"$tmp/www/sub/index.html"
head -c 100000 /dev/urandom >"$tmp/www/small.bin"
ln -s /etc "$tmp/www/etc"
url=http://10.77.3.2

start_serve "$ns" serve --tap tap0 --ip 10.77.3.2/24 --http 80 --root "$tmp/www"
in_ns() { ip netns exec "$ns" timeout 60 "$@"; }

# -- the 10 MB download ---------------------------------------------------------
t0=$(now_ms)
in_ns curl -sS -o "$tmp/big.dl" "$url/big.bin"
rc=$?
t1=$(now_ms)
if [ "$rc" -ne 0 ]; then
    fail "curl of 10 MB exited $rc"
elif [ "$(sha "$tmp/big.dl")" != "$(sha "$tmp/www/big.bin")" ]; then
    fail "10 MB download: sha256 differs"
else
    note "10 MB download: sha256 equal, $(rate 10485760 $((t1 - t0)))"
fi

# -- status codes ----------------------------------------------------------------------
code() { # WANT DESCRIPTION CURL-ARGS...
    local want=$1 what=$2 got
    shift 2
    got=$(in_ns curl -s -o "$tmp/body" -w '%{http_code}' "$@")
    [ "$got" = "$want" ] || fail "$what: HTTP $got, want $want"
}
code 200 "index" "$url/"
grep -q "hello from ustack" "$tmp/body" || fail "index: wrong body"
code 200 "a directory's index.html" "$url/sub/"
grep -q "in a directory" "$tmp/body" || fail "sub/: wrong body"
code 404 "a missing file" "$url/nothing-here"

# A directory asked for without its '/': a redirect to it with one (the
# query kept), on a connection that stays open; a HEAD gets it too.
redirect() { # WANT-LOCATION DESCRIPTION CURL-ARGS...
    local want=$1 what=$2 got
    shift 2
    code 301 "$what" -D "$tmp/hdr" "$@"
    got=$(tr -d '\r' <"$tmp/hdr" | sed -n 's/^[Ll]ocation: //p')
    [ "$got" = "$want" ] || fail "$what: Location '$got', want '$want'"
}
redirect /sub/ "a directory without its /" "$url/sub"
redirect "/sub/?a=1&b=2" "a directory without its /, with a query" "$url/sub?a=1&b=2"
redirect /empty/ "a directory without index.html" "$url/empty"
redirect /sub/ "HEAD of a directory without its /" -I "$url/sub"
code 404 "a directory without index.html" "$url/empty/"
# The absolute-form keeps only the path; a target with a control byte in
# it is refused before anything of it is echoed.
raw() { # REQUEST-TARGET: the status line and Location of a raw GET
    in_ns python3 -c '
import socket, sys
s = socket.create_connection(("10.77.3.2", 80), 5)
s.sendall(b"GET " + sys.argv[1].encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
data = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    data += d
for l in data.split(b"\r\n\r\n")[0].split(b"\r\n"):
    if l.startswith(b"HTTP/") or l.lower().startswith(b"location:"):
        print(l.decode())
' "$1"
}
got=$(raw "http://10.77.3.2/sub?x" | paste -sd'|')
[ "$got" = "HTTP/1.1 301 Moved Permanently|Location: /sub/?x" ] ||
    fail "absolute-form directory without its /: '$got'"
got=$(raw $'/sub\rLocation:x' | paste -sd'|')
[ "$got" = "HTTP/1.1 400 Bad Request" ] || fail "a CR in the target: '$got', want a 400"
n=$(in_ns curl -sL -o "$tmp/body" -w '%{http_code} %{num_redirects} %{num_connects}' "$url/sub")
[ "$n" = "200 1 1" ] ||
    fail "following the redirect: '$n', want '200 1 1' (code, redirects, connections)"
grep -q "in a directory" "$tmp/body" || fail "following the redirect: wrong body"

# The Content-Type is the served file's: a directory's index.html is HTML.
ctype() { # WANT DESCRIPTION URL
    local got
    got=$(in_ns curl -s -o /dev/null -w '%{content_type}' "$3")
    [ "$got" = "$1" ] || fail "$2: Content-Type '$got', want '$1'"
}
ctype "text/html; charset=utf-8" "the root's index.html" "$url/"
ctype "text/html; charset=utf-8" "a directory's index.html" "$url/sub/"
ctype "text/html; charset=utf-8" "index.html by name" "$url/index.html"
ctype "application/octet-stream" "a .bin file" "$url/small.bin"
code 403 "'..' in the path" --path-as-is "$url/../../etc/passwd"
code 403 "'%2e%2e' in the path" --path-as-is "$url/%2e%2e/%2e%2e/etc/passwd"
code 403 "a symbolic link out of the root" "$url/etc/passwd"
code 405 "POST" -X POST -d x=1 "$url/"
code 400 "a bad escape" --path-as-is "$url/a%zz"
code 200 "HEAD" -I "$url/big.bin"
in_ns curl -sI "$url/big.bin" | grep -qi "^content-length: 10485760" ||
    fail "HEAD: no Content-Length of 10485760"

# Two requests, one connection (HTTP/1.1 keeps it open).
n=$(in_ns curl -s -o /dev/null -o /dev/null -w '%{num_connects}\n' "$url/small.bin" "$url/small.bin" | paste -sd' ')
[ "$n" = "1 0" ] || fail "keep-alive: connections opened per request '$n', want '1 0'"

# -- 50 downloads at once ----------------------------------------------------------------
want=$(sha "$tmp/www/small.bin")
t0=$(now_ms)
pids=()
for i in $(seq 50); do
    in_ns curl -sS -o "$tmp/par.$i" "$url/small.bin" &
    pids+=($!)
done
wait "${pids[@]}" # not a bare wait: the server is a child too
t1=$(now_ms)
bad=0
for i in $(seq 50); do
    [ "$(sha "$tmp/par.$i" 2>/dev/null)" = "$want" ] || bad=$((bad + 1))
done
[ "$bad" -eq 0 ] && note "50 concurrent downloads of 100 kB: all intact in $((t1 - t0)) ms" ||
    fail "$bad of 50 concurrent downloads are wrong"

# -- a graceful stop while a client holds a connection open --------------------------
bg idle ip netns exec "$ns" python3 -c '
import socket, time
s = socket.create_connection(("10.77.3.2", 80), 5)
s.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
time.sleep(0.3)
s.recv(4096)
print("open", flush=True)
data = s.recv(4096)
print("eof" if data == b"" else "data", flush=True)
s.close()
'
idle_pid=$last_pid
for _ in $(seq 50); do grep -q open "$tmp/idle.out" && break; sleep 0.05; done
stop "$serve_pid"
wait "$idle_pid" 2>/dev/null
[ "$stop_rc" -eq 0 ] || fail "serve exited $stop_rc after SIGINT, want 0"
grep -q "eof" "$tmp/idle.out" || fail "the idle client did not get a FIN at the stop"
grep -q "stopping: closing 1 connection" "$tmp/serve.err" ||
    { fail "serve did not report closing the open connection"; show "$tmp/serve.err"; }
grep -q "still closing" "$tmp/serve.err" && fail "serve gave up on a FIN exchange"
grep -q "^counters:" "$tmp/serve.out" || fail "no counters printed at the stop"
grep -qE "tcp: [0-9]+ segments in, [0-9]+ out, [0-9]+ retransmitted; 0 active opens, [0-9]+ passive" \
    "$tmp/serve.out" || { fail "the counters lack the TCP line"; show "$tmp/serve.out"; }

finish
