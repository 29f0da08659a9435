#!/usr/bin/env bash
# `ustack bench all --quick --json` end to end: every performance bench runs
# and prints well-formed JSON lines with the names docs/PERFORMANCE.md
# describes. The benches are programs that print figures: nothing here
# looks at what the figures are, only at their shape. Also the arguments.
# CTest sets USTK_BUILD_DIR; exit 77 means skipped.
set -u

build=${USTK_BUILD_DIR:-build}
ustack=$build/ustack
if [ ! -x "$ustack" ]; then
    echo "FAIL: $ustack is not built"
    exit 1
fi

# A JSON parser to check the lines with: python3, jq or Perl's JSON::PP.
if command -v python3 >/dev/null 2>&1; then
    checker=python3
elif command -v jq >/dev/null 2>&1; then
    checker=jq
elif perl -MJSON::PP -e 1 >/dev/null 2>&1; then
    checker=perl
else
    echo "SKIP: no python3, jq or perl JSON::PP to check JSON with"
    exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ustk_bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# Prints "name<TAB>has-kernel-key" for each line of $1, or fails.
names() {
    case $checker in
    python3)
        python3 - "$1" <<'EOF'
import json, sys
ok = True
for n, line in enumerate(open(sys.argv[1]), 1):
    try:
        d = json.loads(line)
    except ValueError as e:
        print("line %d is not JSON: %s" % (n, e), file=sys.stderr)
        ok = False
        continue
    for k in ("bench", "name", "value", "unit", "kernel", "ratio", "target"):
        if k not in d:
            print("line %d has no %s" % (n, k), file=sys.stderr)
            ok = False
    if not isinstance(d.get("value"), (int, float)):
        print("line %d: value is not a number" % n, file=sys.stderr)
        ok = False
    print("%s\t%s" % (d.get("name"), "kernel" if d.get("kernel") is not None else "-"))
sys.exit(0 if ok else 1)
EOF
        ;;
    jq)
        jq -r 'if (has("bench") and has("name") and has("unit") and
                   has("kernel") and has("ratio") and has("target") and
                   ((.value | type) == "number"))
               then "\(.name)\t\(if .kernel == null then "-" else "kernel" end)"
               else error("missing keys") end' "$1"
        ;;
    perl)
        perl -MJSON::PP -ne '
            my $d = eval { decode_json($_) } or die "line $. is not JSON\n";
            for my $k (qw(bench name value unit kernel ratio target)) {
                die "line $. has no $k\n" unless exists $d->{$k};
            }
            print "$d->{name}\t", (defined $d->{kernel} ? "kernel" : "-"), "\n";
        ' "$1"
        ;;
    esac
}

# -- the arguments -------------------------------------------------------------
for b in bulk conn mem scale tap all; do
    "$ustack" bench "$b" --help >"$tmp/help" 2>&1 || fail "bench $b --help: exit status $?"
    grep -q -- "--quick" "$tmp/help" || fail "bench $b --help does not describe --quick"
    grep -q -- "--json" "$tmp/help" || fail "bench $b --help does not describe --json"
    "$ustack" bench "$b" --bogus >/dev/null 2>&1
    rc=$?
    [ "$rc" -eq 2 ] || fail "bench $b --bogus: exit status $rc, want 2"
    "$ustack" bench "$b" --runs 0 >/dev/null 2>&1
    rc=$?
    [ "$rc" -eq 2 ] || fail "bench $b --runs 0: exit status $rc, want 2"
done
"$ustack" bench --help >"$tmp/help" 2>&1
for b in bulk conn mem scale tap all; do
    grep -q "^  $b " "$tmp/help" || fail "bench --help does not list $b"
done

# -- all of them, quick, as JSON -----------------------------------------------
"$ustack" bench all --quick --json --runs 5 >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -ne 0 ]; then
    fail "bench all --quick --json: exit status $rc"
    sed 's/^/    | /' "$tmp/err" | tail -20
fi
if ! names "$tmp/out" >"$tmp/names" 2>"$tmp/why"; then
    fail "bench all --quick --json: the output is not JSON lines as documented"
    sed 's/^/    | /' "$tmp/why" | head -20
fi
# The tap bench needs root (it makes network namespaces and a TAP device);
# without it, or where namespaces cannot be made, it says it skipped.
if grep -q '"bench":"tap"' "$tmp/out"; then
    tap_ran=1
else
    tap_ran=0
    grep -q "bench tap: skipped" "$tmp/err" ||
        fail "bench all: no tap figures and no line saying it was skipped"
fi

expect_name() { # PATTERN KERNEL(kernel|-|any)
    if ! grep -Eq "^$1"$'\t' "$tmp/names"; then
        fail "bench all --quick --json: no result named like '$1'"
        return
    fi
    if [ "$2" != any ] && ! grep -Eq "^$1"$'\t'"$2\$" "$tmp/names"; then
        fail "bench all --quick --json: '$1' should have kernel=$2"
    fi
}

# The kernel's side of bulk and conn needs only loopback sockets; mem's
# reads /proc/slabinfo, which only root may.
expect_name 'bulk\.throughput' kernel
expect_name 'conn\.rate' kernel
expect_name 'conn\.rate_tw[0-9]+[kM]?' kernel
expect_name 'mem\.endpoint\.[0-9]+[kM]?' any
expect_name 'mem\.endpoint_after_data' any
expect_name 'mem\.time_wait_entry' any
expect_name 'scale\.ns_per_segment\.1' -
expect_name 'scale\.ns_per_segment\.[0-9]+[kM]?' -
expect_name 'scale\.cost_ratio' -
if [ "$tap_ran" -eq 1 ]; then
    expect_name 'tap\.throughput' any
    expect_name 'tap\.throughput_offload' kernel
fi
n=$(wc -l <"$tmp/out")
[ "$n" -ge 10 ] || fail "bench all --quick --json: $n result lines, want at least 10"

# The table form prints the same results.
"$ustack" bench scale --quick --runs 5 >"$tmp/table" 2>&1 ||
    fail "bench scale --quick: exit status $?"
grep -q "scale.cost_ratio" "$tmp/table" || fail "bench scale --quick: no table row"

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "ok: $n result lines"
exit 0
