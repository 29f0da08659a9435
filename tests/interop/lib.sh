# Shared by the interop tests (sourced, not run; CTest runs test_*.sh).
#
# Each test makes its own network namespace (named after the test and its
# process id), puts a TAP or TUN device in it with an address for Linux in
# 10.77.0.0/16, runs ustack on the device inside the namespace, and removes
# everything on exit, failed or not: background processes are killed and
# the namespace deleted (which deletes its devices). Without root the test
# is skipped (exit 77) with the reason, and so it is when a tool it needs
# is missing.
#
# CTest sets USTK_BUILD_DIR; by hand: USTK_BUILD_DIR=build bash test_x.sh

set -u

build=${USTK_BUILD_DIR:-build}
ustack=$(cd "$build" 2>/dev/null && pwd)/ustack
failures=0
bg_pids=()
namespaces=()
tmp=""

skip() {
    echo "SKIP: $*"
    exit 77
}

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

note() {
    echo "  $*"
}

finish() {
    if [ "$failures" -ne 0 ]; then
        echo "$failures check(s) failed"
        exit 1
    fi
    echo "PASS"
    exit 0
}

cleanup() {
    local p ns
    for p in "${bg_pids[@]}"; do
        kill "$p" 2>/dev/null
    done
    for p in "${bg_pids[@]}"; do
        # A process that ignores SIGTERM gets SIGKILL after a moment.
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    for ns in "${namespaces[@]}"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
        ip netns del "$ns" 2>/dev/null
    done
    [ -n "$tmp" ] && rm -rf "$tmp"
}

# need_root: skip unless we may create network namespaces.
need_root() {
    if [ "$(id -u)" -ne 0 ]; then
        skip "needs root to create network namespaces (and TAP/TUN devices)"
    fi
    command -v ip >/dev/null 2>&1 || skip "needs ip (apt-get install iproute2)"
    command -v ss >/dev/null 2>&1 || skip "needs ss (apt-get install iproute2)"
    [ -c /dev/net/tun ] || skip "needs /dev/net/tun (modprobe tun)"
}

# need_tool COMMAND PACKAGE: skip, naming it, when a tool is missing.
need_tool() {
    command -v "$1" >/dev/null 2>&1 || skip "needs $1 (apt-get install $2)"
}

# setup NAME: the checks every test makes, the temporary directory and the
# cleanup trap. NAME goes into the namespace's name.
setup() {
    need_root
    if [ ! -x "$ustack" ]; then
        echo "FAIL: $build/ustack is not built"
        exit 1
    fi
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/ustk_interop.XXXXXX")
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    test_name=$1
}

# make_ns VAR: create a namespace with its loopback up and IPv6 off (so
# that Linux does not chatter router solicitations at ustack); its name
# goes into VAR.
make_ns() {
    local name="ustk-$test_name-$$-${#namespaces[@]}"
    if ! ip netns add "$name"; then
        echo "FAIL: cannot create network namespace $name"
        exit 1
    fi
    namespaces+=("$name")
    ip netns exec "$name" ip link set lo up
    ip netns exec "$name" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    ip netns exec "$name" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
    printf -v "$1" '%s' "$name"
}

# add_dev NS tap|tun DEV LINUX_CIDR: a persistent device in the namespace,
# Linux's address on it, up. ustack attaches to it later.
add_dev() {
    local ns=$1 mode=$2 dev=$3 cidr=$4
    ip netns exec "$ns" ip tuntap add dev "$dev" mode "$mode" &&
        ip netns exec "$ns" ip addr add "$cidr" dev "$dev" &&
        ip netns exec "$ns" ip link set "$dev" up || {
        echo "FAIL: cannot set up $mode device $dev in $ns"
        exit 1
    }
}

# add_router R H NET TAPNET: namespace R forwards between the subnet
# TAPNET.0/24 of its TAP device and a host H behind a veth pair on
# NET.0/24 (R is NET.1 on vr, H is NET.2 on vh); H's route to TAPNET goes
# through R.
add_router() {
    local r=$1 h=$2 net=$3 tapnet=$4
    ip link add vr netns "$r" type veth peer name vh netns "$h" &&
        ip -n "$r" addr add "$net.1/24" dev vr &&
        ip -n "$h" addr add "$net.2/24" dev vh &&
        ip -n "$r" link set vr up &&
        ip -n "$h" link set vh up &&
        ip -n "$h" route add "$tapnet.0/24" via "$net.1" &&
        ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1 || {
        echo "FAIL: cannot set up the router"
        exit 1
    }
}

# bg LOGPREFIX COMMAND...: run in the background, stdout and stderr to
# $tmp/LOGPREFIX.out and .err; the pid goes into $last_pid.
bg() {
    local name=$1
    shift
    "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    last_pid=$!
    bg_pids+=("$last_pid")
}

# wait_line PID FILE PATTERN TRIES: until FILE has a line matching
# PATTERN (0), or PID has exited or TRIES times 50 ms have gone by (1).
wait_line() {
    for _ in $(seq "$4"); do
        grep -q "$3" "$2" 2>/dev/null && return 0
        kill -0 "$1" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# start_serve NS LOGPREFIX ARGS...: `ustack serve` in the background; waits
# for its "ready" line. The pid goes into $serve_pid.
start_serve() {
    local ns=$1 name=$2
    shift 2
    bg "$name" ip netns exec "$ns" "$ustack" serve "$@"
    serve_pid=$last_pid
    wait_line "$serve_pid" "$tmp/$name.err" "ready" 100 && return 0
    echo "FAIL: ustack serve $* did not start"
    sed 's/^/    | /' "$tmp/$name.err"
    exit 1
}

# stop PID [SECONDS]: SIGINT, then wait for it (SIGKILL after SECONDS).
# Its exit status goes into $stop_rc.
stop() {
    local pid=$1 limit=${2:-10} i
    kill -INT "$pid" 2>/dev/null
    for ((i = 0; i < limit * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -9 "$pid" 2>/dev/null
        echo "FAIL: process $pid did not stop on SIGINT within $limit s"
        failures=$((failures + 1))
    fi
    wait "$pid" 2>/dev/null
    stop_rc=$?
}

# wait_socket NS PORT SS-FLAGS WHAT: until `ss SS-FLAGS` in NS shows a
# socket on PORT (5 s); otherwise the test fails with WHAT.
wait_socket() {
    for _ in $(seq 100); do
        ip netns exec "$1" ss "$3" "sport = :$2" 2>/dev/null | grep -q . && return 0
        sleep 0.05
    done
    echo "FAIL: $4"
    exit 1
}

# wait_tcp_listen NS PORT: until a Linux socket listens on PORT.
wait_tcp_listen() {
    wait_socket "$1" "$2" -Htln "nothing listens on port $2"
}

# wait_udp_bound NS PORT: until a Linux UDP socket is bound to PORT.
wait_udp_bound() {
    wait_socket "$1" "$2" -Huln "nothing is bound to UDP port $2"
}

# start_capture NS DEV FILE LOGPREFIX [SNAPLEN [FILTER]]: tshark on Linux's
# side of DEV, writing FILE, only the packets the capture FILTER (BPF)
# passes if one is given (at a bulk transfer's rate tshark drops packets
# when the machine is busy; a test that looks for a few of them should
# capture only those). Returns once tshark says it captures. Start it after
# ustack has attached to DEV: until a TAP or TUN device has a reader it has
# no carrier, and what Linux sends on it in the second after the carrier
# comes may never reach the capture. The pid goes into $cap_pid; stop it
# with `stop` (SIGINT: tshark writes out what it holds).
start_capture() {
    local ns=$1 dev=$2 file=$3 name=$4 snap=${5:-0} filter=${6:-}
    local args=(-q -n -i "$dev" -w "$file")
    [ "$snap" -gt 0 ] && args+=(-s "$snap")
    [ -n "$filter" ] && args+=(-f "$filter")
    bg "$name" ip netns exec "$ns" tshark "${args[@]}"
    cap_pid=$last_pid
    wait_line "$cap_pid" "$tmp/$name.err" "Capturing on" 200 && return 0
    echo "FAIL: the capture on $dev does not start"
    show "$tmp/$name.err"
    exit 1
}

# stop_capture FILE: stop the capture started last, once FILE has stopped
# growing (up to 5 s). On a busy machine dumpcap may not yet have read
# what the device passed it, and what it has not read when it stops is
# lost.
stop_capture() {
    local file=$1 last=-1 size i
    for ((i = 0; i < 50; i++)); do
        size=$(stat -c %s "$file" 2>/dev/null || echo 0)
        [ "$size" -gt 0 ] && [ "$size" -eq "$last" ] && break
        last=$size
        sleep 0.1
    done
    stop "$cap_pid"
}

sha() {
    sha256sum "$1" | cut -d' ' -f1
}

# now_ms: a clock for measuring.
now_ms() {
    echo $(($(date +%s%N) / 1000000))
}

# rate BYTES MS: "X.XX s, Y Mbit/s"
rate() {
    awk -v b="$1" -v ms="$2" 'BEGIN {
        if (ms < 1) ms = 1
        printf "%.3f s, %.0f Mbit/s", ms / 1000, b * 8 / ms / 1000 }'
}

# check_echo FILE RC WHAT T0 T1: an echo of $size bytes came back in FILE
# with exit status RC, equal to the data sent (sha256 $want), between T0
# and T1 (now_ms).
check_echo() {
    if [ "$2" -ne 0 ]; then
        fail "$3: exit status $2"
    elif [ "$(stat -c %s "$1")" -ne "$size" ]; then
        fail "$3: $(stat -c %s "$1") bytes came back, want $size"
    elif [ "$(sha "$1")" != "$want" ]; then
        fail "$3: sha256 differs"
    else
        note "$3: $((size / 1024 / 1024)) MB each way, sha256 equal, $(rate $((2 * size)) $(($5 - $4))) (both directions)"
    fi
}

# linux_to_echo NS ADDR WHAT: Linux (socat) sends $tmp/data to the echo
# service (port 7) at ADDR and checks what comes back.
linux_to_echo() {
    local t0 t1 rc
    t0=$(now_ms)
    ip netns exec "$1" timeout 120 socat -b 65536 -t 60 - "TCP:$2:7" \
        <"$tmp/data" >"$tmp/back"
    rc=$?
    t1=$(now_ms)
    check_echo "$tmp/back" "$rc" "$3" "$t0" "$t1"
    rm -f "$tmp/back"
}

# ustack_to_echo NS PORT ERRFILE WHAT CONNECT-ARGS...: a Linux echo server
# (socat) on PORT, and `ustack connect CONNECT-ARGS...` sends it $tmp/data;
# the echo is checked, ustack's stderr kept in ERRFILE (shown on failure).
ustack_to_echo() {
    local ns=$1 port=$2 err=$3 what=$4 t0 t1 rc
    shift 4
    bg "echo_$port" ip netns exec "$ns" socat -b 65536 -t 60 \
        "TCP-LISTEN:$port,reuseaddr" EXEC:cat
    wait_tcp_listen "$ns" "$port"
    t0=$(now_ms)
    ip netns exec "$ns" timeout 120 "$ustack" connect "$@" <"$tmp/data" \
        >"$tmp/back" 2>"$err"
    rc=$?
    t1=$(now_ms)
    check_echo "$tmp/back" "$rc" "$what" "$t0" "$t1"
    [ "$rc" -eq 0 ] || show "$err"
    rm -f "$tmp/back"
}

# show FILE: indent a log into the test output.
show() {
    sed 's/^/    | /' "$1" | head -${2:-40}
}
