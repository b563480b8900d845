#!/bin/sh
# A working CRIU for checkpoint/restore (docs: ../docs/runc-behaviour.md,
# "checkpoint/restore"). Prints the path of a CRIU whose `criu check` passes:
# the one on PATH, else one built earlier into $APUS_CRIU_CACHE, else builds
# CRIU 4.1.1 there from Debian trixie's source archive (Debian 12's 3.17 does
# not understand the vDSO of kernels >= 6.x: "Unexpected rt vDSO area bounds").
#   tools/criu.sh          find or build (make deps)
#   tools/criu.sh --find   find only; prints nothing and exits 1 when none works
set -eu
CACHE=${APUS_CRIU_CACHE:-/var/cache/apus-criu}
VERSION=4.1.1
BUILT=$CACHE/criu-$VERSION/criu/criu

# (--no-default-config: a log-file= in /etc/criu/default.conf would land in the cwd)
works() { [ -x "$1" ] && "$1" check --no-default-config >/dev/null 2>&1; }

for c in "$(command -v criu 2>/dev/null || true)" "$BUILT"; do
	if [ -n "$c" ] && works "$c"; then echo "$c"; exit 0; fi
done
[ "${1:-}" = "--find" ] && exit 1

BUILD_DEPS="libprotobuf-c-dev protobuf-c-compiler protobuf-compiler libprotobuf-dev libnl-3-dev \
libnet1-dev libcap-dev pkg-config libbsd-dev uuid-dev dpkg-dev xz-utils make gcc"
missing=$(for p in $BUILD_DEPS; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || echo "$p"; done)
if [ -n "$missing" ]; then
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=1200 install -y -qq --no-install-recommends $missing >&2
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
if works "$BUILT"; then echo "$BUILT"; exit 0; fi
cd "$CACHE"
if [ ! -f "criu_$VERSION.orig.tar.xz" ]; then
	# A temporary deb-src line for trixie on the machine's own Debian mirror,
	# removed again whatever happens.
	mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
	mirror=${mirror:-http://deb.debian.org/debian}
	list=/etc/apt/sources.list.d/apus-criu-src.list
	trap 'rm -f "$list"; apt-get -o DPkg::Lock::Timeout=1200 update -qq >/dev/null 2>&1 || true' EXIT
	echo "deb-src $mirror trixie main" >"$list"
	apt-get -o DPkg::Lock::Timeout=1200 update -qq >&2
	# The .debian.tar.xz part may be missing from the mirror (non-zero exit):
	# only the upstream tarball is needed.
	apt-get -o DPkg::Lock::Timeout=1200 source --download-only "criu=$VERSION-1" >&2 || true
	rm -f "$list"
	apt-get -o DPkg::Lock::Timeout=1200 update -qq >&2 || true
	trap - EXIT
	[ -f "criu_$VERSION.orig.tar.xz" ] || { echo "tools/criu.sh: criu_$VERSION.orig.tar.xz not downloaded" >&2; exit 1; }
fi
rm -rf "criu-$VERSION"
tar xf "criu_$VERSION.orig.tar.xz"
make -C "criu-$VERSION" -j2 criu >"$CACHE/build.log" 2>&1 || { tail -n 30 "$CACHE/build.log" >&2; exit 1; }
works "$BUILT" || { "$BUILT" check >&2 || true; exit 1; }
echo "$BUILT"
