#!/usr/bin/env bash
# 100 MB each way between Linux and ustack on a device with virtio-net
# headers (--vnet-hdr: IFF_VNET_HDR, TSO and checksum offload), over TAP
# and TUN, with each side opening the connection in turn; sha256 checked.
# ustack's counters must show that Linux cut ustack's TSO segments (TSO
# frames written) and handed over coalesced ones (GSO frames read): the
# offloads were really used, not just switched on. Then ustack attaches to
# the same device with plain frames: the offloads stay with a device, and
# must not be left on for a reader that has no header to learn of them
# (Linux's SYNs would come with their checksums left to do).
. "$(dirname "$0")/lib.sh"
setup vnet
need_tool socat socat

size=$((100 * 1024 * 1024))
head -c "$size" /dev/urandom >"$tmp/data"
want=$(sha "$tmp/data")
make_ns ns

# offloads_used FILE WHAT: the counters line says TSO frames went out and
# coalesced frames came in.
offloads_used() {
    local line tso gso
    line=$(grep "offloads:" "$1")
    tso=$(sed -n 's/.*offloads: \([0-9]*\) TSO frames written.*/\1/p' <<<"$line")
    gso=$(sed -n 's/.*; \([0-9]*\) coalesced frames in.*/\1/p' <<<"$line")
    if [ -z "$line" ] || [ "${tso:-0}" -eq 0 ] || [ "${gso:-0}" -eq 0 ]; then
        fail "$2: offloads not used (${line:-no offloads line})"
        show "$1"
    else
        note "$2: $tso TSO frames written, $gso coalesced frames read"
    fi
}

for kind in tap tun; do
    dev=v${kind}0
    case $kind in
    tap) net=10.77.14 port=7017 ;;
    tun) net=10.77.15 port=7018 ;;
    esac
    add_dev "$ns" "$kind" "$dev" "$net.1/24"

    # Linux connects to ustack's echo service.
    start_serve "$ns" "serve_$kind" "--$kind" "$dev" --vnet-hdr --ip "$net.2/24" --echo 7
    grep -q "virtio-net headers: TSO" "$tmp/serve_$kind.err" ||
        { fail "serve over $kind: no offloads announced"; show "$tmp/serve_$kind.err"; }
    linux_to_echo "$ns" "$net.2" "Linux -> ustack echo over $kind with vnet hdr"
    stop "$serve_pid"
    offloads_used "$tmp/serve_$kind.out" "serve over $kind"

    # ustack connects to a Linux echo server.
    ustack_to_echo "$ns" "$port" "$tmp/connect_$kind.err" \
        "ustack connect -> Linux echo over $kind with vnet hdr" \
        -v "--$kind" "$dev" --vnet-hdr --ip "$net.2/24" "$net.1" "$port"
    offloads_used "$tmp/connect_$kind.err" "connect over $kind"

    # Plain frames on the same device afterwards.
    start_serve "$ns" "plain_$kind" "--$kind" "$dev" --ip "$net.2/24" --echo 7
    linux_to_echo "$ns" "$net.2" "Linux -> ustack echo over $kind, plain frames after vnet hdr"
    stop "$serve_pid"
    if grep -q "tcp: bad checksum" "$tmp/plain_$kind.out" "$tmp/plain_$kind.err"; then
        fail "plain frames over $kind: segments with bad checksums"
        show "$tmp/plain_$kind.out"
    fi
done

finish
