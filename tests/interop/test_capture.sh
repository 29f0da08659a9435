#!/usr/bin/env bash
# 10. What crosses the wire is well formed. A capture on Linux's side of the
# device (tshark) during the traffic of tests 2 to 4 — curl downloading
# 10 MB from ustack's HTTP server, 10 MB each way through ustack's echo,
# `ustack connect` downloading 10 MB from python3's http.server — read back
# by tshark: no malformed packet, every IPv4 and TCP checksum good, and in
# every handshake, whoever opened it, both SYN and SYN-ACK carry MSS,
# window scale, SACK-permitted and timestamps; then every segment carries a
# timestamp. Over TAP, then over TUN.
. "$(dirname "$0")/lib.sh"
setup capture
need_tool tshark tshark
need_tool curl curl
need_tool socat socat
need_tool python3 python3

make_ns ns
mkdir -p "$tmp/www"
head -c 10485760 /dev/urandom >"$tmp/www/file.bin"
want=$(sha "$tmp/www/file.bin")

for kind in tap tun; do
    dev=${kind}0
    case $kind in
    tap) net=10.77.14 ;;
    tun) net=10.77.15 ;;
    esac
    lin=$net.1 ust=$net.2
    pcap=$tmp/$kind.pcap
    failed_before=$failures
    add_dev "$ns" "$kind" "$dev" "$lin/24"

    # Linux opens: HTTP from ustack, and the echo.
    start_serve "$ns" "serve_$kind" "--$kind" "$dev" --ip "$ust/24" --http 80 \
        --root "$tmp/www" --echo 7
    start_capture "$ns" "$dev" "$pcap" "cap_$kind"
    ip netns exec "$ns" timeout 60 curl -sS -o "$tmp/dl" "http://$ust/file.bin"
    [ "$(sha "$tmp/dl")" = "$want" ] || fail "$kind: the HTTP download differs"
    ip netns exec "$ns" timeout 60 socat -b 65536 -t 30 - "TCP:$ust:7" \
        <"$tmp/www/file.bin" >"$tmp/echo"
    [ "$(sha "$tmp/echo")" = "$want" ] || fail "$kind: the echo differs"
    stop "$serve_pid"

    # ustack opens: a download from python3's http.server.
    bg "http_$kind" ip netns exec "$ns" python3 -m http.server 8080 --bind "$lin" \
        --directory "$tmp/www"
    http_pid=$last_pid
    wait_tcp_listen "$ns" 8080
    printf 'GET /file.bin HTTP/1.0\r\n\r\n' | ip netns exec "$ns" timeout 60 "$ustack" connect \
        "--$kind" "$dev" --ip "$ust/24" "$lin" 8080 >"$tmp/resp" 2>"$tmp/connect.err" ||
        { fail "$kind: ustack connect failed"; show "$tmp/connect.err"; }
    kill "$http_pid"
    sleep 0.3
    stop "$cap_pid"

    # The payloads are random bytes: HTTP and echo dissectors would read
    # them as garbage headers. What is checked is the framing, IPv4, TCP.
    if ! tshark -n -r "$pcap" --disable-protocol http --disable-protocol echo \
        >"$tmp/text" 2>"$tmp/terr"; then
        fail "$kind: tshark cannot read the capture"
        show "$tmp/terr"
        continue
    fi
    n=$(grep -c "Malformed" "$tmp/text")
    [ "$n" -eq 0 ] || fail "$kind: $n malformed packets"
    # One pass for the rest: a line per IPv4 packet, checksums verified
    # (Wireshark's status: 0 bad, 1 good, 2 unverified).
    tshark -n -r "$pcap" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
        -Y ip -T fields -E separator=/t -e ip.src -e ip.proto -e tcp.flags.syn \
        -e tcp.flags.ack -e tcp.flags.reset -e tcp.options.mss_val \
        -e tcp.options.wscale.shift -e tcp.options.sack_perm \
        -e tcp.options.timestamp.tsval -e ip.checksum.status \
        -e tcp.checksum.status -e frame.number -e tcp.len -e tcp.checksum \
        -e tcp.checksum_calculated 2>/dev/null >"$tmp/fields"
    awk -F'\t' -v lin="$lin" -v ust="$ust" -v kind="$kind" '
        function on(v) { return v == "1" || v == "True" }
        $2 != 6 { next }
        {
            tcp++
            if ($10 != "1") badip++
            # 0xffff where 0x0000 was computed is the same number in ones
            # complement arithmetic; Linux sends it now and then, Wireshark
            # frowns on it (RFC 1624): tolerated from Linux, not ustack.
            if ($11 != "1" && !($1 == lin && $14 == "0xffff" && $15 == "0x0000")) badtcp++
            opts = $6 != "" && $7 != "" && $8 != "" && $9 != ""
            if (on($3)) {
                # SYN (opened by its sender) or SYN-ACK (by the other side)
                opener = on($4) ? ($1 == lin ? "ustack" : "Linux") : ($1 == lin ? "Linux" : "ustack")
                key = opener (on($4) ? " synack" : " syn")
                n[key]++
                if (opts) ok[key]++
            } else if (!on($5) && $9 == "") {
                nots++
            }
        }
        END {
            printf "tcp %d\n", tcp
            printf "badsum %d %d\n", badip, badtcp
            printf "nots %d\n", nots
            split("Linux ustack", who, " ")
            for (i = 1; i <= 2; i++)
                printf "open %s %d %d %d %d\n", who[i], n[who[i] " syn"], ok[who[i] " syn"],
                    n[who[i] " synack"], ok[who[i] " synack"]
        }' "$tmp/fields" >"$tmp/summary"
    total=$(wc -l <"$tmp/text")
    tcp=$(awk '$1 == "tcp" { print $2 }' "$tmp/summary")
    note "$kind: $total packets captured, $tcp TCP"
    [ "${tcp:-0}" -gt 20000 ] || fail "$kind: only ${tcp:-0} TCP packets captured"
    read -r _ bip btcp < <(grep '^badsum' "$tmp/summary")
    if [ "$bip" -ne 0 ] || [ "$btcp" -ne 0 ]; then
        fail "$kind: checksums not good: $bip IPv4, $btcp TCP"
        awk -F'\t' '$2 == 6 && ($10 != "1" || $11 != "1") {
            print "frame " $12 " from " $1 ": tcp.len " $13 ", ip checksum status " $10 \
                ", tcp " $11 " (" $14 ", computed " $15 ")" }' \
            "$tmp/fields" | head -5 | sed 's/^/    | /'
    fi
    while read -r _ who s_all s_ok a_all a_ok; do
        if [ "$s_all" -eq 0 ] || [ "$a_all" -eq 0 ]; then
            fail "$kind: no handshake opened by $who ($s_all SYN, $a_all SYN-ACK)"
        elif [ "$s_ok" -ne "$s_all" ] || [ "$a_ok" -ne "$a_all" ]; then
            fail "$kind: opened by $who: $s_ok/$s_all SYNs and $a_ok/$a_all SYN-ACKs carry MSS, WS, SACK-permitted and timestamps"
        else
            note "$kind: opened by $who: $s_all SYN, $a_all SYN-ACK, each with MSS, window scale, SACK-permitted, timestamps"
        fi
    done < <(grep '^open' "$tmp/summary")
    # Timestamps agreed: every later segment, both ways, carries one.
    n=$(awk '$1 == "nots" { print $2 }' "$tmp/summary")
    [ "${n:-0}" -eq 0 ] || fail "$kind: $n segments after the handshake without a timestamp"
    # To look into a failure: USTK_KEEP=DIR keeps the capture.
    if [ "$failures" -ne "$failed_before" ] && [ -n "${USTK_KEEP:-}" ]; then
        cp "$pcap" "$USTK_KEEP/" && echo "  (capture kept in $USTK_KEEP/$kind.pcap)"
    fi
done

finish
