#!/usr/bin/env bash
# `ustack demo --pcap` writes captures that tshark reads cleanly: no
# malformed packets, every IPv4 and TCP checksum good, and the expected
# handshake and teardown (1 SYN, 1 SYN-ACK, 2 FINs), on Ethernet (with ARP)
# and on a raw IP link. CTest sets USTK_BUILD_DIR; exit 77 means skipped.
set -u

build=${USTK_BUILD_DIR:-build}
ustack=$build/ustack
if [ ! -x "$ustack" ]; then
    echo "FAIL: $ustack is not built"
    exit 1
fi
if ! command -v tshark >/dev/null 2>&1; then
    echo "SKIP: tshark is not installed (apt-get install tshark)"
    exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ustk_pcap.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# count FILE FILTER: packets matching a display filter, checksums verified.
count() {
    tshark -r "$1" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
        -Y "$2" 2>/dev/null | wc -l
}

expect_count() { # FILE FILTER WANT WHAT
    local n
    n=$(count "$1" "$2")
    [ "$n" -eq "$3" ] || fail "$4: $n packets match '$2', want $3"
}

# linktype FILE: the link type from the pcap file header (either byte order).
linktype() {
    local b
    b=($(od -A n -t u1 -j 20 -N 4 "$1"))
    if [ "${b[0]:-0}" -ne 0 ]; then
        echo $((b[0] + 256 * b[1]))
    else
        echo $((b[3] + 256 * b[2]))
    fi
}

check_capture() { # FILE WHAT [demo args...]
    local f=$1 what=$2 total tcp
    shift 2
    if ! "$ustack" demo --quiet --pcap "$f" "$@" >"$tmp/out" 2>&1; then
        fail "$what: the demo failed"
        sed 's/^/    | /' "$tmp/out"
        return
    fi
    if [ ! -s "$f" ]; then
        fail "$what: no capture written"
        return
    fi
    if ! tshark -r "$f" >"$tmp/text" 2>"$tmp/terr"; then
        fail "$what: tshark cannot read the capture"
        sed 's/^/    | /' "$tmp/terr"
        return
    fi
    total=$(wc -l <"$tmp/text")
    tcp=$(count "$f" "tcp")
    [ "$tcp" -gt 0 ] || fail "$what: no TCP packets in $total"
    grep -q "Malformed" "$tmp/text" && fail "$what: tshark reports malformed packets"
    expect_count "$f" "_ws.malformed" 0 "$what"
    expect_count "$f" "_ws.expert.severity >= 6291456" 0 "$what (expert warnings or errors)"
    # Wireshark's checksum status: 0 bad, 1 good, 2 unverified.
    expect_count "$f" "ip.checksum.status == 0 || tcp.checksum.status == 0" 0 \
        "$what (bad checksums)"
    expect_count "$f" "tcp.checksum.status == 1" "$tcp" "$what (verified TCP checksums)"
    expect_count "$f" "ip.checksum.status == 1" "$tcp" "$what (verified IP checksums)"
    expect_count "$f" "tcp.flags.syn == 1 && tcp.flags.ack == 0" 1 "$what (SYN)"
    expect_count "$f" "tcp.flags.syn == 1 && tcp.flags.ack == 1" 1 "$what (SYN-ACK)"
    expect_count "$f" "tcp.flags.fin == 1" 2 "$what (FIN)"
    expect_count "$f" "tcp.flags.reset == 1" 0 "$what (RST)"
    # The greeting is the first thing the client sends.
    expect_count "$f" 'tcp.payload[0:13] == "hello, ustack"' 2 "$what (greeting and echo)"
}

check_capture "$tmp/eth.pcap" "Ethernet"
[ "$(linktype "$tmp/eth.pcap")" = 1 ] || fail "Ethernet: link type $(linktype "$tmp/eth.pcap"), want 1"
expect_count "$tmp/eth.pcap" \
    "arp.opcode == 1 && arp.src.proto_ipv4 == 10.0.0.1 && arp.dst.proto_ipv4 == 10.0.0.2" \
    1 "Ethernet (ARP request)"
expect_count "$tmp/eth.pcap" "arp.opcode == 2" 1 "Ethernet (ARP reply)"

check_capture "$tmp/ip.pcap" "raw IP" --link ip
case $(linktype "$tmp/ip.pcap") in
228 | 101) ;; # LINKTYPE_IPV4, LINKTYPE_RAW
*) fail "raw IP: link type $(linktype "$tmp/ip.pcap"), want 228 (IPv4) or 101 (raw)" ;;
esac
expect_count "$tmp/ip.pcap" "arp || eth" 0 "raw IP (no Ethernet, no ARP)"

# Under loss, the SACK blocks the ladder prints (the first block of each
# segment, relative to the ISN of the side whose data they cover) are the
# ones Wireshark decodes, in its own relative numbers, from the capture.
# The capture is the client's end: every block it holds is in the full
# ladder.
"$ustack" demo --ascii --full --link ip --loss 3 --seed 2 --bytes 200000 \
    --pcap "$tmp/loss.pcap" >"$tmp/ladder" 2>&1 || fail "lossy capture: the demo failed"
grep -o 'sack=[0-9]*-[0-9]*' "$tmp/ladder" | sed 's/^sack=//' | sort -u >"$tmp/ladder.sack"
tshark -r "$tmp/loss.pcap" -Y tcp.options.sack_le -T fields \
    -e tcp.options.sack_le -e tcp.options.sack_re 2>/dev/null |
    awk '{ split($1, l, ","); split($2, r, ","); print l[1] "-" r[1] }' |
    sort -u >"$tmp/pcap.sack"
if [ ! -s "$tmp/pcap.sack" ]; then
    fail "lossy capture: no SACK blocks in it"
elif [ -n "$(comm -13 "$tmp/ladder.sack" "$tmp/pcap.sack")" ]; then
    fail "lossy capture: SACK blocks the ladder does not show:" \
        "$(comm -13 "$tmp/ladder.sack" "$tmp/pcap.sack" | head -5 | tr '\n' ' ')"
fi

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all capture checks passed"
