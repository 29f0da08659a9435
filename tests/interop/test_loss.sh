#!/usr/bin/env bash
# 9. 20 MB each way through `ustack serve --echo --loss 5 --reorder 2`: the
# impairments sit on ustack's side of the TAP device (both directions), so
# both stacks lose segments and both must retransmit. The echo comes back
# intact (sha256), and a capture on Linux's side of the device shows
# retransmissions from Linux (its segments dropped on the way into ustack)
# and from ustack (its segments dropped before they reached the device).
. "$(dirname "$0")/lib.sh"
setup loss
need_tool socat socat
need_tool tshark tshark

make_ns ns
add_dev "$ns" tap tap0 10.77.13.1/24
size=$((20 * 1024 * 1024))
head -c "$size" /dev/urandom >"$tmp/data"

# Headers are enough to tell a retransmission (and keep the file small).
start_serve "$ns" serve --tap tap0 --ip 10.77.13.2/24 --echo 7 --loss 5 --reorder 2 \
    --impair-seed 9
start_capture "$ns" tap0 "$tmp/loss.pcap" cap 128
t0=$(now_ms)
ip netns exec "$ns" timeout 150 socat -b 65536 -t 60 - TCP:10.77.13.2:7 \
    <"$tmp/data" >"$tmp/back"
rc=$?
t1=$(now_ms)
sleep 0.3
stop_capture "$tmp/loss.pcap"
stop "$serve_pid"
if [ "$rc" -ne 0 ]; then
    fail "the echo through 5% loss: socat exited $rc"
    show "$tmp/serve.err"
elif [ "$(sha "$tmp/back")" != "$(sha "$tmp/data")" ]; then
    fail "the echo through 5% loss: sha256 differs ($(stat -c %s "$tmp/back") bytes back)"
else
    note "20 MB each way through 5% loss + 2% reordering: sha256 equal, $(rate $((2 * size)) $((t1 - t0)))"
fi
grep -E "impairments, (out|in)" "$tmp/serve.out" | sed 's/^ */  ustack /'
grep -qE "impairments, out: [0-9]+ frames, [1-9][0-9]* lost" "$tmp/serve.out" ||
    fail "the impairments lost nothing on the way out"

count() { # FILTER
    tshark -n -r "$tmp/loss.pcap" -Y "$1" 2>/dev/null | wc -l
}
# tshark calls a segment that does not advance the sequence a
# retransmission (fast retransmission included), or out of order when it
# follows the highest one within the first RTT. Linux's own segments are
# never reordered before the capture point, so from Linux both are
# retransmissions; ustack's may have been reordered by --reorder, so only
# tshark's retransmissions count for it.
lin_rtx=$(count "tcp.analysis.retransmission && ip.src == 10.77.13.1")
lin_ooo=$(count "tcp.analysis.out_of_order && ip.src == 10.77.13.1")
ust=$(count "tcp.analysis.retransmission && ip.src == 10.77.13.2")
[ $((lin_rtx + lin_ooo)) -gt 0 ] || fail "the capture shows no retransmission from Linux"
[ "$ust" -gt 0 ] || fail "the capture shows no retransmission from ustack"
note "retransmissions in the capture: from Linux $lin_rtx (and $lin_ooo more that tshark calls out of order), from ustack $ust"
grep -E "tcp: .* retransmitted" "$tmp/serve.out" | sed 's/^ */  ustack /'

finish
