#!/bin/bash
# tools/symbol-order.sh APUS OUT -- the link order of apus's functions
# (`make symbol-order`; the Makefile links with lld's --symbol-ordering-file OUT).
#
# Why: a static apus maps 7 MB of code, and every page a command touches pulls
# its whole fault-around window (64 KB) into the process's RSS. The few
# hundred KB of functions the usual commands run, scattered over the whole
# image, made most of `--version`'s 4.7 MB and `run`'s 6.4 MB of peak RSS.
# Linked together, they fill a few windows. The list starts with
# apus_hot_text_begin and ends with apus_hot_text_end (CApusEntry): outside
# them apus turns fault-around off for its image (CApusShim/faultaround.c).
# The Swift stdlib's Swift.o has one 1.6 MB text section that the linker
# cannot split: its functions stay out of the list, or the whole section
# would sit inside the hot block.
#
# How: APUS (the release build, with its symbols) runs the orchestrators'
# commands on a busybox bundle under tools/bptrace.c, which puts a one-shot
# breakpoint on every function of every process of the tree that runs apus
# (ptrace; valgrind knows none of openat2, open_tree, mount_setattr) and
# notes each one reached. Functions most commands run come first, in the
# order they first ran. Functions no profile saw keep lld's default place
# after them. A stale list only costs RSS, never correctness: lld ignores
# names it does not find. Needs root, cc, jq, python3 and busybox (BUSYBOX,
# default /bin/busybox).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=tools/bench-lib.sh
. "$HERE/bench-lib.sh"

APUS=$(realpath "$1")
OUT=$2
BUSYBOX=${BUSYBOX:-/bin/busybox}
[ "$(id -u)" -eq 0 ] || die "containers need root"
for t in cc jq nm python3; do command -v $t >/dev/null || die "$t is missing"; done

bench_workdir
bench_cleanup_on_exit "apus=$APUS"
bench_bundles "$APUS" 1
ROOT="$WORK/root-apus"
mkdir -p "$WORK/trace"
cc -O2 -o "$WORK/bptrace" "$HERE/bptrace.c"
# every function's address
nm -S "$APUS" | awk '$3 ~ /^[tTwW]$/ && $2 !~ /^0+$/ { print $1 }' | sort -u >"$WORK/functions"
# the functions of the stdlib's unsplittable text section (in none of them,
# the list is used as it is)
SWIFTC=$(command -v swiftc || true)
CORE=${SWIFTC:+$(dirname "$(dirname "$(readlink -f "$SWIFTC")")")/lib/swift_static/linux/libswiftCore.a}
: >"$WORK/unsplit"
if [ -n "$CORE" ] && [ -f "$CORE" ]; then
	ar p "$CORE" Swift.o >"$WORK/Swift.o"
	text=$(readelf -SW "$WORK/Swift.o" | sed -n 's/^ *\[ *\([0-9]*\)\] \.text .*/\1/p')
	readelf -sW "$WORK/Swift.o" | awk -v t="$text" '$4 == "FUNC" && $7 == t { print $8 }' >"$WORK/unsplit"
fi

# profile NAME ARGS...: the functions one command ran, in $WORK/trace/NAME.
profile() {
	local name=$1
	shift
	bench_closed "$WORK/bptrace" "$WORK/trace/$name" "$APUS" "$WORK/functions" "$APUS" "$@" \
		</dev/null >/dev/null 2>"$WORK/trace/$name.err" ||
		{ cat "$WORK/trace/$name.err" >&2; die "$name failed under bptrace"; }
}

id="$PREFIX-order"
profile version --version
(cd "$WORK/bundle-true-m1" && profile run --root "$ROOT" run "$id-run")
# create's init stays traced until start makes it exec sleep
profile create --root "$ROOT" create --bundle "$WORK/bundle-sleep" "$id" &
creating=$!
for _ in $(seq 600); do
	[ "$("$APUS" --root "$ROOT" state "$id" 2>/dev/null | jq -r .status)" = created ] && break
	sleep 0.1
done
profile state --root "$ROOT" state "$id"
profile start --root "$ROOT" start "$id"
wait "$creating"
profile list --root "$ROOT" list
profile exec --root "$ROOT" exec "$id" true
profile kill --root "$ROOT" kill "$id" KILL
for _ in $(seq 100); do
	[ "$("$APUS" --root "$ROOT" state "$id" | jq -r .status)" = stopped ] && break
	sleep 0.1
done
profile delete --root "$ROOT" delete "$id"

# Every symbol of a function that ran; those more commands ran first, then
# in the order they first ran.
python3 - "$WORK/trace" "$APUS" "$WORK/unsplit" >"$OUT" <<'PY'
import collections, os, subprocess, sys
trace, binary = sys.argv[1], sys.argv[2]
unsplit = set(open(sys.argv[3]).read().split())
names = collections.defaultdict(list)
for line in subprocess.run(["nm", "-S", binary], capture_output=True, text=True, check=True).stdout.splitlines():
    parts = line.split()
    if len(parts) == 4 and parts[2] in "tTwW":
        names[int(parts[0], 16)].append(parts[3])
commands = collections.defaultdict(set)
first = {}
for command in ["version", "run", "create", "state", "start", "list", "exec", "kill", "delete"]:
    for line in open(os.path.join(trace, command)):
        address = int(line, 16)
        commands[address].add(command)
        first.setdefault(address, len(first))
print("apus_hot_text_begin")
for address in sorted(first, key=lambda a: (-len(commands[a]), first[a])):
    for name in sorted(names[address]):
        if name not in unsplit:
            print(name)
print("apus_hot_text_end")
PY
echo "$(wc -l <"$OUT") symbols in $OUT"
