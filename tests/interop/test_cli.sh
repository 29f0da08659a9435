#!/usr/bin/env bash
# The serve, connect and ping commands' arguments and device errors: every
# subcommand has --help (exit 0); a bad argument gets a message, the usage
# on stderr, nothing on stdout and exit 2. As root, opening the device fails
# clearly (exit 1): no permission (run as nobody), a TUN device opened as
# TAP and the other way round, something that is not a TUN/TAP device.
# Without root only the argument checks run.
. "$(dirname "$0")/lib.sh"

if [ ! -x "$ustack" ]; then
    echo "FAIL: $build/ustack is not built"
    exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ustk_interop.XXXXXX")
trap cleanup EXIT
out=$tmp/out
err=$tmp/err

run() {
    "$ustack" "$@" >"$out" 2>"$err" </dev/null
    rc=$?
}

for cmd in serve connect ping; do
    run "$cmd" --help
    [ "$rc" -eq 0 ] && grep -q "usage: ustack $cmd" "$out" ||
        fail "$cmd --help: exit $rc, or no usage on stdout"
    run help "$cmd"
    [ "$rc" -eq 0 ] && grep -q "usage: ustack $cmd" "$out" || fail "help $cmd"
done
# The device has a default (the TAP device ustk0): no usage line calls it
# required.
for cmd in serve connect ping; do
    run "$cmd" --help
    grep -qF "usage: ustack $cmd [--tap NAME | --tun NAME] --ip" "$out" ||
        fail "$cmd --help: the usage line does not show the device as optional"
    grep -qF "is --tap ustk0" "$out" || fail "$cmd --help: the default device is not named"
done
run --help
for cmd in serve connect ping; do
    grep -qE "^  $cmd " "$out" || fail "ustack --help does not list $cmd"
done

bad() { # ARGS...: exit 2, a message and the usage on stderr, nothing on stdout
    run "$@"
    if [ "$rc" -ne 2 ]; then
        fail "'$*': exit $rc, want 2"
        show "$err" 5
    elif ! grep -q "usage: ustack" "$err"; then
        fail "'$*': no usage on stderr"
    elif [ "$(grep -c . "$err")" -lt 3 ]; then
        fail "'$*': no message before the usage"
    elif [ -s "$out" ]; then
        fail "'$*': printed on stdout"
    fi
}
ip="--ip 10.77.16.2/24"
# shellcheck disable=SC2086 # $ip splits on purpose
{
    bad serve
    bad serve --tap tap0
    bad serve --tap tap0 --ip
    bad serve --tap tap0 --ip 10.77.16.2/33
    bad serve --tap tap0 --ip 10.77.16/24
    bad serve --tap tap0 --ip 300.1.1.1/24
    bad serve --tap tap0 --ip 224.0.0.1/24
    bad serve --tap tap0 --ip host/24
    bad serve --tap "" $ip
    bad serve --tap waytoolongname0123 $ip
    bad serve --tap "a/b" $ip
    bad serve --tap tap0 --tun tun0 $ip
    bad serve --tap tap0 $ip --gateway 10.77.99.1
    bad serve --tap tap0 $ip --gateway nowhere
    bad serve --tap tap0 $ip --http 80
    bad serve --tap tap0 $ip --root /tmp
    bad serve --tap tap0 $ip --http 0 --root /tmp
    bad serve --tap tap0 $ip --http 65536 --root /tmp
    bad serve --tap tap0 $ip --echo 7 --discard 7
    bad serve --tap tap0 $ip --udp-echo x
    bad serve --tap tap0 $ip --loss 101
    bad serve --tap tap0 $ip --loss 5%
    bad serve --tap tap0 $ip --reorder -1
    bad serve --tap tap0 $ip --delay-ms 1.5
    bad serve --tap tap0 $ip --mac 01:00:00:00:00:01
    bad serve --tap tap0 $ip --mac 02:00:00:00:00
    bad serve --tap tap0 $ip --mtu 100
    bad serve --tap tap0 $ip --bogus
    bad serve --tap tap0 $ip --pcap --quiet
    bad serve --tap --ip 10.77.16.2/24
    bad serve --tap tap0 $ip extra
    bad connect
    bad connect --tap tap0 $ip
    bad connect --tap tap0 $ip 10.77.16.1
    bad connect --tap tap0 $ip localhost 80
    bad connect --tap tap0 $ip 10.77.16.1 0
    bad connect --tap tap0 $ip 10.77.16.1 65536
    bad connect --tap tap0 $ip 10.77.16.1 http
    bad connect --tap tap0 $ip 10.77.16.1 80 extra
    bad connect --tap tap0 10.77.16.1 80
    bad connect --tap tap0 $ip --timeout 0 10.77.16.1 80
    bad connect --tap tap0 $ip --wait -1 10.77.16.1 80
    bad connect --tap tap0 $ip --udpp 10.77.16.1 80
    bad ping
    bad ping --tap tap0 $ip
    bad ping --tap tap0 10.77.16.1
    bad ping --tap tap0 $ip 10.77.16.1 -c 0
    bad ping --tap tap0 $ip 10.77.16.1 -c x
    bad ping --tap tap0 $ip 10.77.16.1 -i 0
    bad ping --tap tap0 $ip 10.77.16.1 -s 70000
    bad ping --tap tap0 $ip 10.77.16.1 -t 0
    bad ping --tap tap0 $ip 10.77.16.1 -t 256
    bad ping --tap tap0 $ip 10.77.16.1 10.77.16.3
    bad ping --tap tap0 $ip 10.77.16.1 -x
    bad ping --tap tap0 $ip -c -q 10.77.16.1
}

# --ip without a prefix length: /24, and said so once on stderr.
run serve --tap tap0 --ip 10.77.16.2 --http 80
n=$(grep -c "ustack serve: --ip 10.77.16.2 has no prefix length: assuming /24 (10.77.16.2/24)" "$err")
[ "$n" -eq 1 ] || { fail "--ip without a prefix: 'assuming /24' said $n times, want 1"; show "$err" 5; }
run serve --tap tap0 --ip 10.77.16.2/24 --http 80
grep -q "assuming" "$err" && fail "--ip with a prefix: an 'assuming' note"
run ping --help
grep -q "without /PREFIX, /24 is assumed" "$out" || fail "ping --help does not say /24 is assumed"

if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null 2>&1 || [ ! -c /dev/net/tun ]; then
    echo "  (device errors not checked: they need root and /dev/net/tun)"
    finish
fi

# -- opening devices fails clearly ------------------------------------------------------
test_name=cli
make_ns ns
add_dev "$ns" tun tun0 10.77.16.1/24
add_dev "$ns" tap tap0 10.77.17.1/24
dev_err() { # WANT-MESSAGE ARGS...
    local want=$1
    shift
    ip netns exec "$ns" timeout 10 "$ustack" "$@" >"$out" 2>"$err" </dev/null
    rc=$?
    if [ "$rc" -ne 1 ] || ! grep -q -- "$want" "$err"; then
        fail "'$*': exit $rc, want 1 with '$want'"
        show "$err" 5
    fi
}
dev_err "tun0 is a TUN device, not a TAP device" serve --tap tun0 $ip
dev_err "tap0 is a TAP device, not a TUN device" ping --tun tap0 $ip 10.77.16.1 -c 1
dev_err "lo exists and is not a TUN/TAP device" connect --tap lo $ip 10.77.16.1 80
if command -v setpriv >/dev/null 2>&1; then
    ip netns exec "$ns" setpriv --reuid=65534 --regid=65534 --clear-groups \
        --inh-caps=-all "$ustack" serve --tap tap0 $ip >"$out" 2>"$err" </dev/null
    rc=$?
    [ "$rc" -eq 1 ] && grep -q "need root or CAP_NET_ADMIN" "$err" ||
        { fail "serve without privileges: exit $rc, want 1 with 'need root or CAP_NET_ADMIN'"; show "$err" 5; }
else
    echo "  (setpriv missing: the no-permission message is not checked)"
fi
# An unwritable capture file is a failure to run (1), not a bad argument.
dev_err "cannot record to" serve --tap tap0 --ip 10.77.17.2/24 --pcap "$tmp/no/such/dir/x.pcap"
dev_err "--root" serve --tap tap0 --ip 10.77.17.2/24 --http 80 --root "$tmp/no/such/dir"

finish
