# shellcheck shell=bash
# The systemd environment for systemd.bats and e2e-systemd.bats: the cached
# Debian rootfs booted once per file as PID 1 of a container
# (systemd-env.sh), the runtime run inside it with a private --root. A
# test's bundle lives under the environment's shared directory (bound at the
# same path inside). RUNTIME=…/runc runs the host's runc inside instead of
# apus.

ENV_SH="$BATS_TEST_DIRNAME/systemd-env.sh"
INNER_ROOT=/run/bats-sd-state

setup_file() {
	export SDENV="$BATS_FILE_TMPDIR/sdenv"
	if ! "$BATS_TEST_DIRNAME/../tools/systemd-rootfs.sh" >"$BATS_FILE_TMPDIR/rootfs.log" 2>&1; then
		echo "cannot build the systemd rootfs (make systemd-env): $(tail -3 "$BATS_FILE_TMPDIR/rootfs.log")" >"$BATS_FILE_TMPDIR/skip"
		return 0
	fi
	local apus=$RUNTIME
	[[ $(basename "$RUNTIME") == runc ]] && apus="$BATS_TEST_DIRNAME/../.build/release/apus"
	[[ -x $apus ]] || apus=/bin/true
	if ! APUS=$apus "$ENV_SH" up "$SDENV" >"$BATS_FILE_TMPDIR/up.log" 2>&1 </dev/null 3>&- 4>&-; then
		echo "systemd did not boot: $(tail -5 "$BATS_FILE_TMPDIR/up.log")" >"$BATS_FILE_TMPDIR/skip"
	fi
}

teardown_file() {
	[[ -d ${SDENV:-} ]] && "$ENV_SH" down "$SDENV" </dev/null 3>&- 4>&-
	return 0
}

setup() {
	[[ -f $BATS_FILE_TMPDIR/skip ]] && skip "$(cat "$BATS_FILE_TMPDIR/skip")"
	TMPDIR="$SDENV/share" setup_bundle
	INNER=/usr/local/bin/apus
	[[ $(basename "$RUNTIME") == runc ]] && INNER=/usr/local/sbin/runc
	export INNER
}

# systemd_teardown: delete what the runtime inside still knows, check that
# systemd has no unit named after a test left, then the usual leak checks.
systemd_teardown() {
	if [[ -f $BATS_FILE_TMPDIR/skip ]]; then return 0; fi
	local id left
	for id in $(cat "$TESTDIR/ids" 2>/dev/null); do
		in_env "$INNER" --root "$INNER_ROOT" delete --force "$id" >/dev/null 2>&1
	done
	# systemd learns of units going (a runtime's transient mounts, such as
	# runc 1.1's bind of its own binary in its state directory, a scope's
	# stop job) from its own event loop: wait for it, bounded, before
	# calling a unit left behind.
	local i
	for ((i = 0; i < 100; i++)); do
		left=$(in_env systemctl list-units --all --plain --no-legend '*bats-*' 2>/dev/null)
		[[ -z $left ]] && break
		sleep 0.1
	done
	teardown_bundle
	if [[ -n $left ]]; then
		echo "systemd units left: $left" >&2
		return 1
	fi
}

# in_env CMD...: CMD inside the systemd container (stdio detached from bats).
in_env() {
	(
		_close_fds
		exec "$ENV_SH" exec "$SDENV" "$@"
	) </dev/null
}

# inner ARGS...: the runtime inside, with --systemd-cgroup; a container's
# stdio goes to files so nothing holds bats's pipes.
inner() {
	run in_env sh -c 'out=$1; shift; "$@" </dev/null >"$out" 2>&1; rc=$?; cat "$out"; exit $rc' sh \
		"$OUT" "$INNER" --root "$INNER_ROOT" --systemd-cgroup "$@"
}

# show UNIT PROPERTY: `systemctl show -p PROPERTY --value UNIT` inside.
show() { in_env systemctl show -p "$2" --value "$1"; }

# scope_pid ID: the init's pid (as the systemd container sees it).
inner_pid() { in_env "$INNER" --root "$INNER_ROOT" state "$1" | jq -r .pid; }

inner_status() { in_env "$INNER" --root "$INNER_ROOT" state "$1" 2>/dev/null | jq -r .status; }

wait_inner_status() {
	local i
	for ((i = 0; i < 200; i++)); do
		[[ $(inner_status "$1") == "$2" ]] && return 0
		sleep 0.05
	done
	echo "status of $1: $(inner_status "$1"), wanted $2" >&2
	return 1
}

run_inner() {
	OUT="$TESTDIR/$1.log" inner run -d --bundle "$BUNDLE" "$1"
}
