#!/usr/bin/env bash
# 3. 100 MB each way between Linux and ustack, sha256 checked, over TAP and
# over TUN, with each side opening the connection in turn:
#   Linux (socat) -> `ustack serve --echo`: 100 MB up, the same 100 MB back;
#   `ustack connect` -> Linux (socat echo): 100 MB up, the same 100 MB back.
# Half-close carries the end of the stream both times: the client shuts its
# sending side at the end of its input and reads the echo to its end.
. "$(dirname "$0")/lib.sh"
setup bulk
need_tool socat socat

size=$((100 * 1024 * 1024))
head -c "$size" /dev/urandom >"$tmp/data"
want=$(sha "$tmp/data")
make_ns ns

for kind in tap tun; do
    dev=${kind}0
    case $kind in
    tap) net=10.77.4 port=7007 ;;
    tun) net=10.77.5 port=7008 ;;
    esac
    add_dev "$ns" "$kind" "$dev" "$net.1/24"

    # Linux connects to ustack's echo service.
    start_serve "$ns" "serve_$kind" "--$kind" "$dev" --ip "$net.2/24" --echo 7 --discard 9
    linux_to_echo "$ns" "$net.2" "Linux -> ustack echo over $kind"
    # And into the discard service (ustack only receives).
    t0=$(now_ms)
    ip netns exec "$ns" timeout 120 socat -u -b 65536 - "TCP:$net.2:9" <"$tmp/data"
    rc=$?
    t1=$(now_ms)
    [ "$rc" -eq 0 ] && note "Linux -> ustack discard over $kind: 100 MB in $(rate "$size" $((t1 - t0)))" ||
        fail "Linux -> ustack discard over $kind: socat exited $rc"
    stop "$serve_pid"
    grep -q "discard 10.77.*closed: $size bytes read" "$tmp/serve_$kind.err" ||
        { fail "discard over $kind: serve did not read $size bytes"; show "$tmp/serve_$kind.err"; }

    # ustack connects to a Linux echo server.
    ustack_to_echo "$ns" "$port" "$tmp/connect_$kind.err" \
        "ustack connect -> Linux echo over $kind" \
        "--$kind" "$dev" --ip "$net.2/24" "$net.1" "$port"
done

finish
