#!/usr/bin/env bash
#
# tools/suite-runc-integration.sh CHECKOUT [RESULTS_DIR]
#
# Runs runc's own bats suite (tests/integration of a local checkout of
# opencontainers/runc, tag v1.1.5) against RUNTIME (default:
# .build/release/apus), one test at a time.
#
# Built offline with Debian's golang and runc's vendored modules: the suite's
# helpers recvtty, sd-helper and seccompagent (runc itself is not built). The
# images the suite would download are made here instead and put where its
# get-images.sh looks (tests/integration/testdata/{busybox,debian}-amd64.tar.xz):
# busybox from busybox-static with every applet linked and a nobody user, and a
# Debian minbase (debootstrap) for hooks.bats; both cached in $SUITE_CACHE/images.
#
# The suite calls the runtime as $RUNC and in places by the name `runc`: both
# are a wrapper directory's `runc` (first on PATH) that execs RUNTIME; a
# working CRIU (tools/criu.sh --find) is linked there as `criu`. Each
# test runs alone (bats --filter on its exact name) with SUITE_TIMEOUT seconds
# (300), in a private pid + mount namespace; after each, whatever it left
# (containers, processes, cgroups below the run's own cgroup and
# /runc-cgroups-integration-test, mounts) is removed. /etc is an overlay in
# that namespace (checkpoint.bats writes /etc/criu/default.conf).
#
# RESULTS_DIR (default $SUITE_CACHE/results/runc-integration-<runtime>-<time>)
# gets tap/<file>.tap (raw TAP of each file's tests, renumbered), tap/<file>.log
# (bats's output of failed tests), summary.txt (passed failed skipped per file),
# failed.txt (every failed test), totals.txt. SUITE_ONLY=REGEX runs the files
# (file.bats) matching it, SUITE_TEST=REGEX the tests whose name matches.

set -uo pipefail
SUITE_NAME=suite-runc-integration
# shellcheck source=tools/suite-lib.sh
. "$(dirname "$(readlink -f "$0")")/suite-lib.sh"
suite_args runc-integration "$@"
INTEGRATION=$CHECKOUT/tests/integration

build() {
	[ -f "$INTEGRATION/helpers.bash" ] || suite_die "$CHECKOUT is not a runc checkout"
	suite_need_packages bats jq gawk gcc libseccomp-dev iproute2 util-linux bsdutils
	suite_go_env
	local cmd
	for cmd in recvtty sd-helper; do
		suite_go_build "$CHECKOUT" "contrib/cmd/$cmd/$cmd" "./contrib/cmd/$cmd"
	done
	suite_go_build "$CHECKOUT" contrib/cmd/seccompagent/seccompagent ./contrib/cmd/seccompagent -tags seccomp
	mkdir -p "$SUITE_CACHE/images"
	suite_busybox_rootfs "$SUITE_CACHE/images/busybox-amd64.tar.xz"
	suite_debian_rootfs "$SUITE_CACHE/images/debian-amd64.tar.xz"
	ln -sf "$SUITE_CACHE/images/busybox-amd64.tar.xz" "$INTEGRATION/testdata/busybox-amd64.tar.xz"
	ln -sf "$SUITE_CACHE/images/debian-amd64.tar.xz" "$INTEGRATION/testdata/debian-amd64.tar.xz"
}

# The names of a file's tests, as written.
test_names() {
	sed -n 's/^[[:space:]]*@test "\(.*\)" {[[:space:]]*$/\1/p' "$1"
}

regex_quote() {
	printf '%s' "$1" | sed 's/[][\.*^$(){}?+|/]/\\&/g'
}

run_file() {
	local file=$1 base name n=0 out rc line cmd
	base=$(basename "$file" .bats)
	: >"$RESULTS/tap/$base.tap.body"
	while IFS= read -r name; do
		[[ $name =~ ${SUITE_TEST:-.} ]] || continue
		n=$((n + 1))
		suite_log "$base: $name"
		# On a terminal of its own (script(1)), as runc's CI runs it: `runc
		# spec` makes terminal containers, run in the foreground on it.
		cmd=$(printf '%q ' env PATH="$WORK/bin:$PATH" RUNC="$WORK/bin/runc" TMPDIR="$WORK/tmp" \
			bats --tap --filter "^$(regex_quote "$name")\$" "$file")
		out=$(cd "$INTEGRATION" && timeout --kill-after=10 "$SUITE_TIMEOUT" script -qefc "$cmd" /dev/null </dev/null 2>&1 | tr -d '\r')
		rc=$?
		line=$(grep -m1 -E '^(not )?ok 1 ' <<<"$out")
		if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
			line="not ok 1 $name # timeout after ${SUITE_TIMEOUT}s"
		elif [ -z "$line" ]; then
			line="not ok 1 $name # bats exited $rc without a result"
		fi
		echo "${line/ 1 / $n }" >>"$RESULTS/tap/$base.tap.body"
		if [[ $line == "not ok"* ]]; then
			printf '%s: %s\n' "$base" "$name" >>"$RESULTS/failed.txt"
			printf '### %s\n%s\n\n' "$name" "$out" >>"$RESULTS/tap/$base.log"
		fi
		"$WORK/bin/runc" --root "$WORK/state" list -q 2>/dev/null | while read -r id; do
			"$WORK/bin/runc" --root "$WORK/state" delete -f "$id" >/dev/null 2>&1
		done
		suite_cleanup_after_test "$WORK"
		rm -rf "${WORK:?}/tmp" "$WORK/state" && mkdir -p "$WORK/tmp" "$WORK/state"
	done < <(test_names "$file")
	{ echo "1..$n"; cat "$RESULTS/tap/$base.tap.body"; } >"$RESULTS/tap/$base.tap"
	rm -f "$RESULTS/tap/$base.tap.body"
	[ $n -gt 0 ] && printf '%-32s %5s %5s %5s\n' "$base" $(suite_tap_counts "$RESULTS/tap/$base.tap") >>"$RESULTS/summary.txt"
}

main() {
	suite_enter_namespace "$@"
	[ -x "$RUNTIME" ] || suite_die "RUNTIME $RUNTIME is not executable"
	build
	rm -rf "$RESULTS/tap" && mkdir -p "$RESULTS/tap"
	: >"$RESULTS/failed.txt"
	WORK=$(mktemp -d /var/tmp/apus-suite-runc.XXXXXX)
	chmod a+x "$WORK"
	mkdir -p "$WORK/tmp" "$WORK/state"
	suite_runtime_wrapper "$WORK/bin" "$RUNTIME"
	# A working CRIU first on PATH for both runtimes alike (checkpoint.bats;
	# Debian 12's 3.17 fails on kernels >= 6.x): tools/criu.sh's, when built.
	local criu
	criu=$("$(dirname "$(readlink -f "$0")")/criu.sh" --find) && ln -sf "$criu" "$WORK/bin/criu"
	# checkpoint.bats writes /etc/criu/default.conf: /etc is an overlay in
	# the run's mount namespace, so that stays off the host.
	mkdir -p "$WORK/etc-upper" "$WORK/etc-work"
	mount -t overlay suite-etc -o lowerdir=/etc,upperdir="$WORK/etc-upper",workdir="$WORK/etc-work" /etc ||
		suite_die "cannot put an overlay on /etc"
	suite_cgroups_enter runc-cgroups-integration-test
	trap 'suite_cleanup_after_test "$WORK"; suite_cgroups_leave; umount -l /etc; rm -rf "$WORK"' EXIT
	printf '# runc tests/integration %s against %s (%s)\n' "$(suite_revision "$CHECKOUT")" \
		"$RUNTIME" "$("$RUNTIME" --version 2>/dev/null | head -1)" >"$RESULTS/summary.txt"
	printf '%-32s %5s %5s %5s\n' file pass fail skip >>"$RESULTS/summary.txt"
	local file
	for file in "$INTEGRATION"/*.bats; do
		[[ $(basename "$file") =~ ${SUITE_ONLY:-.} ]] || continue
		run_file "$file"
	done
	awk 'NR > 2 { p += $2; f += $3; s += $4 } END { printf "passed %d failed %d skipped %d\n", p, f, s }' \
		"$RESULTS/summary.txt" | tee "$RESULTS/totals.txt"
	suite_log "results in $RESULTS"
}

main "$@"
