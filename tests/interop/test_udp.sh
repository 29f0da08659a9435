#!/usr/bin/env bash
# 6. UDP both ways, over TAP and TUN: Linux sends 200 datagrams of various
# sizes to `ustack serve --udp-echo` and gets each back intact; `ustack
# connect --udp` sends to a Linux UDP echo server and prints the reply; and
# an ICMP port unreachable from Linux reaches ustack's connected UDP socket:
# `ustack connect --udp` to a closed port says "connection refused", exit 1.
. "$(dirname "$0")/lib.sh"
setup udp
need_tool python3 python3

make_ns ns

for kind in tap tun; do
    dev=${kind}0
    case $kind in
    tap) net=10.77.9 port=7007 ;;
    tun) net=10.77.10 port=7008 ;;
    esac
    add_dev "$ns" "$kind" "$dev" "$net.1/24"

    # -- Linux -> ustack's UDP echo -----------------------------------------------------
    start_serve "$ns" "serve_$kind" "--$kind" "$dev" --ip "$net.2/24" --udp-echo 7
    out=$(ip netns exec "$ns" timeout 30 python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect((sys.argv[1], 7))
ok = 0
for i in range(200):
    msg = os.urandom(1 + (i * 37) % 1472)
    s.send(msg)
    try:
        if s.recv(65536) == msg:
            ok += 1
    except socket.timeout:
        pass
print(ok)' "$net.2")
    [ "$out" = "200" ] && note "Linux -> ustack UDP echo over $kind: 200/200 datagrams back intact" ||
        fail "Linux -> ustack UDP echo over $kind: $out of 200 came back"
    stop "$serve_pid"

    # -- ustack -> Linux's UDP echo -----------------------------------------------------
    bg "uecho_$kind" ip netns exec "$ns" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
while True:
    d, a = s.recvfrom(65536)
    s.sendto(d, a)' "$net.1" "$port"
    wait_udp_bound "$ns" "$port"
    printf 'hello over udp\n' | ip netns exec "$ns" timeout 20 "$ustack" connect --udp \
        --wait 0.5 "--$kind" "$dev" --ip "$net.2/24" "$net.1" "$port" >"$tmp/u.out" 2>"$tmp/u.err"
    rc=$?
    if [ "$rc" -ne 0 ] || [ "$(cat "$tmp/u.out")" != "hello over udp" ]; then
        fail "ustack -> Linux UDP echo over $kind: exit $rc, output '$(cat "$tmp/u.out")'"
        show "$tmp/u.err"
    else
        note "ustack -> Linux UDP echo over $kind: the datagram came back"
    fi

    # -- ICMP port unreachable -------------------------------------------------------------
    printf 'anyone?\n' | ip netns exec "$ns" timeout 20 "$ustack" connect --udp \
        --wait 3 "--$kind" "$dev" --ip "$net.2/24" "$net.1" 9999 >"$tmp/r.out" 2>"$tmp/r.err"
    rc=$?
    if [ "$rc" -ne 1 ] || ! grep -q "$net.1:9999: connection refused" "$tmp/r.err"; then
        fail "ustack UDP to a closed Linux port over $kind: exit $rc, want 1 with 'connection refused'"
        show "$tmp/r.err"
    else
        note "ustack UDP to a closed Linux port over $kind: $(head -1 "$tmp/r.err")"
    fi
done

finish
