#!/usr/bin/env bash
# 1. Ping both ways: `ping -c 5` from Linux to ustack answers every request,
# and `ustack ping -c 5` to Linux gets every reply, over TAP (with ARP) and
# over TUN; requests larger than the MTU go and come back in fragments.
# Also: a host that does not answer ARP is reported unreachable, from our
# own address, and `ustack ping` exits 1; 127.0.0.1 is ustack itself, and
# its capture shows the loopback packets as lo would, none on the device.
. "$(dirname "$0")/lib.sh"
setup ping
need_tool ping iputils-ping

make_ns ns

# check_linux_ping LOG: 5 sent, 5 received, 0% loss.
check_linux_ping() {
    if ! grep -q "5 packets transmitted, 5 received, 0% packet loss" "$1"; then
        fail "$2: Linux's ping lost replies"
        show "$1"
    else
        note "$2: $(grep -o 'rtt .*' "$1")"
    fi
}

check_ustack_ping() {
    if [ "$3" -ne 0 ]; then
        fail "$2: ustack ping exited $3, want 0"
        show "$1"
    elif ! grep -q "5 packets transmitted, 5 received, 0% packet loss" "$1" ||
        [ "$(grep -c 'bytes from .*icmp_seq=[1-5] time=' "$1")" -ne 5 ]; then
        fail "$2: ustack ping's output lacks 5 replies"
        show "$1"
    else
        note "$2: $(grep -o 'rtt .*' "$1")"
    fi
}

for kind in tap tun; do
    dev=${kind}0
    case $kind in
    tap) net=10.77.1 ;;
    tun) net=10.77.2 ;;
    esac
    add_dev "$ns" "$kind" "$dev" "$net.1/24"

    # Linux pings ustack (the stack answers by itself).
    start_serve "$ns" "serve_$kind" "--$kind" "$dev" --ip "$net.2/24"
    ip netns exec "$ns" timeout 20 ping -c 5 -i 0.2 -W 2 "$net.2" >"$tmp/lping_$kind" 2>&1
    check_linux_ping "$tmp/lping_$kind" "Linux -> ustack over $kind"
    stop "$serve_pid"
    [ "$stop_rc" -eq 0 ] || fail "serve over $kind exited $stop_rc after SIGINT"
    grep -q "icmp: 5 echo replies sent" "$tmp/serve_$kind.out" ||
        fail "serve over $kind: the counters do not show 5 echo replies"

    # ustack pings Linux.
    ip netns exec "$ns" timeout 20 "$ustack" ping "--$kind" "$dev" --ip "$net.2/24" \
        -c 5 -i 0.2 "$net.1" >"$tmp/uping_$kind" 2>&1
    check_ustack_ping "$tmp/uping_$kind" "ustack -> Linux over $kind" $?
done

# Requests larger than the MTU go in fragments, and Linux's replies come
# back in fragments that ustack reassembles: 3,000 bytes, and the largest.
for size in 3000 65507; do
    ip netns exec "$ns" timeout 20 "$ustack" ping --tun tun0 --ip 10.77.2.2/24 \
        -c 5 -i 0.2 -s "$size" 10.77.2.1 >"$tmp/uping_big" 2>&1
    rc=$?
    if [ "$rc" -ne 0 ] || [ "$(grep -c "^$((size + 8)) bytes from .*icmp_seq=[1-5] " "$tmp/uping_big")" -ne 5 ]; then
        fail "ustack ping -s $size: exit $rc, want 5 replies of $((size + 8)) bytes"
        show "$tmp/uping_big"
    else
        note "ustack ping -s $size -> Linux over tun: 5 replies in fragments"
    fi
done

# Nobody at 10.77.1.9: ARP gives up (after 3 s), and each request is
# reported as ping(8) does, from our own address: the target never spoke.
# Exit 1, the loss and the errors in the summary; without -W it waits for
# ARP to give up, and is done once every request is answered or failed.
t0=$(now_ms)
ip netns exec "$ns" timeout 20 "$ustack" ping --tap tap0 --ip 10.77.1.2/24 \
    -c 2 -i 0.2 10.77.1.9 >"$tmp/uping_none" 2>&1
rc=$?
t1=$(now_ms)
[ "$rc" -eq 1 ] || fail "ping to nobody: exit $rc, want 1"
grep -q "2 packets transmitted, 0 received, +2 errors, 100% packet loss" "$tmp/uping_none" ||
    { fail "ping to nobody: no summary of 100% loss and 2 errors"; show "$tmp/uping_none"; }
for seq in 1 2; do
    grep -qx "From 10.77.1.2 icmp_seq=$seq Destination Host Unreachable" "$tmp/uping_none" ||
        { fail "ping to nobody: request $seq not reported unreachable"; show "$tmp/uping_none"; }
done
grep -q "From 10.77.1.9" "$tmp/uping_none" && fail "ping to nobody: a line claims the target answered"
[ $((t1 - t0)) -lt 6000 ] || fail "ping to nobody: took $((t1 - t0)) ms, want < 6 s"

# 127.0.0.1 is this host: ustack answers itself through its loopback queue,
# and nothing goes to the device. The capture holds the 3 requests and 3
# replies as Linux shows lo (Ethernet addresses all zeros), and no IPv4
# frame that crossed the device.
ip netns exec "$ns" timeout 20 "$ustack" ping --tap tap0 --ip 10.77.1.2/24 \
    -c 3 -i 0.2 --pcap "$tmp/lo.pcap" 127.0.0.1 >"$tmp/uping_lo" 2>&1
rc=$?
if [ "$rc" -ne 0 ] ||
    [ "$(grep -c '^64 bytes from 127.0.0.1: icmp_seq=[1-3] ' "$tmp/uping_lo")" -ne 3 ]; then
    fail "ustack ping 127.0.0.1: exit $rc, want 3 replies"
    show "$tmp/uping_lo"
elif command -v tshark >/dev/null 2>&1; then
    lo=$(tshark -n -r "$tmp/lo.pcap" -Y 'icmp && ip.src == 127.0.0.1 &&
        ip.dst == 127.0.0.1 && eth.src == 00:00:00:00:00:00 &&
        eth.dst == 00:00:00:00:00:00' 2>/dev/null | wc -l)
    dev=$(tshark -n -r "$tmp/lo.pcap" -Y 'ip && !(eth.addr == 00:00:00:00:00:00)' \
        2>/dev/null | wc -l)
    if [ "$lo" -ne 6 ]; then
        fail "ustack ping 127.0.0.1: $lo loopback packets captured, want 6"
    elif [ "$dev" -ne 0 ]; then
        fail "ustack ping 127.0.0.1: $dev IPv4 frames on the device, want 0"
    else
        note "ustack ping 127.0.0.1: 3 replies, 6 packets captured as on lo"
    fi
else
    note "ustack ping 127.0.0.1: 3 replies (no tshark to read the capture)"
fi

finish
