#!/usr/bin/env bash
# 50 MB each way between Linux and ustack on a device whose frames go out
# through io_uring (--uring: a batch of writes per system call), over TAP
# and TUN, with each side opening the connection in turn; sha256 checked.
# Once more through the decorators (--pcap, --delay-ms), which must hand
# the device's queue its flush. ustack's counters must show every frame
# written and none refused.
. "$(dirname "$0")/lib.sh"
setup uring
need_tool socat socat
if [ "$(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo 0)" != 0 ]; then
    skip "io_uring is switched off (kernel.io_uring_disabled)"
fi

size=$((50 * 1024 * 1024))
head -c "$size" /dev/urandom >"$tmp/data"
want=$(sha "$tmp/data")
make_ns ns

# all_written FILE WHAT: the device line counts frames written, none
# refused.
all_written() {
    local line out refused
    line=$(grep "  device " "$1")
    out=$(sed -n 's/.*), \([0-9]*\) written.*/\1/p' <<<"$line")
    refused=$(sed -n 's/.*bytes), \([0-9]*\) refused.*/\1/p' <<<"$line")
    if [ -z "$line" ] || [ "${out:-0}" -eq 0 ] || [ "${refused:-1}" -ne 0 ]; then
        fail "$2: frames not all written (${line:-no device line})"
        show "$1"
    else
        note "$2: $out frames written through io_uring, none refused"
    fi
}

n=0
for kind in tap tun; do
    for extra in "" "--pcap $tmp/cap.pcap --delay-ms 1"; do
        n=$((n + 1))
        dev=u${kind}$n
        net=10.77.$((20 + n)) port=$((7030 + n))
        what="over $kind${extra:+ with pcap and delay}"
        add_dev "$ns" "$kind" "$dev" "$net.1/24"

        # Linux connects to ustack's echo service.
        # shellcheck disable=SC2086 # $extra is words
        start_serve "$ns" "serve_$n" "--$kind" "$dev" --uring 64 $extra \
            --ip "$net.2/24" --echo 7
        grep -q "io_uring: 64 frames per submission" "$tmp/serve_$n.err" ||
            { fail "serve $what: io_uring not announced"; show "$tmp/serve_$n.err"; }
        linux_to_echo "$ns" "$net.2" "Linux -> ustack echo $what"
        stop "$serve_pid"
        all_written "$tmp/serve_$n.out" "serve $what"
        rm -f "$tmp/cap.pcap"

        # ustack connects to a Linux echo server.
        # shellcheck disable=SC2086 # $extra is words
        ustack_to_echo "$ns" "$port" "$tmp/connect_$n.err" \
            "ustack connect -> Linux echo $what" \
            -v "--$kind" "$dev" --uring 64 $extra --ip "$net.2/24" "$net.1" "$port"
        all_written "$tmp/connect_$n.err" "connect $what"
        rm -f "$tmp/cap.pcap"
    done
done

finish
