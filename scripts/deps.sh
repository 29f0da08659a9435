#!/bin/sh
# Install what the build and the tests need on Debian, when it is missing.
# As root this uses apt-get; otherwise it names what is missing and stops.
set -eu

missing=""
need() { # need PACKAGE CHECK-COMMAND...
    pkg=$1; shift
    case " $missing " in *" $pkg "*) return 0 ;; esac
    if ! "$@" >/dev/null 2>&1; then missing="$missing $pkg"; fi
}

need cmake        command -v cmake
need make         command -v make
need gcc          command -v cc
need libcmocka-dev test -f /usr/include/cmocka.h
need tshark       command -v tshark
# The interop tests (tests/interop/, root only) talk to Linux through these.
need iproute2     command -v ip
need iproute2     command -v ss
need curl         command -v curl
need iputils-ping command -v ping
need socat        command -v socat
need python3      command -v python3

if [ -z "$missing" ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "deps: installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    # tshark asks whether non-root users may capture; answer no, quietly.
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
    echo "deps: done"
else
    echo "deps: missing Debian packages:$missing" >&2
    echo "deps: install them with:  sudo apt-get install$missing" >&2
    echo "deps: (or run 'make check' as root, which installs them itself)" >&2
    exit 1
fi
