#!/usr/bin/env bats
# End to end: containerd 1.6 (io.containerd.runc.v2 shim) running real
# containers with `ctr run --runc-binary $RUNTIME`, against a private
# containerd started in setup_file: config, root, state, sockets and logs in
# E2E_DIR, CRI disabled, namespace E2E_ID (so its cgroups are
# /sys/fs/cgroup/*/E2E_ID/<id>), runtime state in --runc-root E2E_DIR/runc-root,
# IO fifos in --fifo-dir E2E_DIR/fifo.  The shim always uses
# /run/containerd/s (sockets) and creates /run/containerd/runc/<namespace>;
# teardown_file removes those it created.  See docs/capture-notes.md.
#
# ctr run always asks for linux.resources.cpu.shares = 1024 (its
# --cpu-shares default). If the runtime rejects that (apus: "not supported"),
# setup_file notes the error and the tests run with --cpu-shares 0 (no cpu
# section) so the rest is still checked, then skip with apus's error.

load e2e-helpers

IMAGE=localhost/busybox:e2e

# c ARGS...: ctr against our containerd, in our namespace.
c() { e2e_bounded ctr --address "$E2E_DIR/ctrd/containerd.sock" --namespace "$E2E_ID" "$@"; }

# runtime flags for every `ctr run` (plus the workaround, if any)
ctr_flags() {
	# shellcheck disable=SC2086
	echo --runc-binary "$RUNTIME" --runc-root "$E2E_DIR/runc-root" --fifo-dir "$E2E_DIR/fifo" $CTR_WORKAROUND
}

# c_run ARGS...: ctr run with our runtime flags.
c_run() {
	# shellcheck disable=SC2046
	c run $(ctr_flags) "$@"
}

# skip_if_worked_around: the test passed, but only with CTR_WORKAROUND.
skip_if_worked_around() {
	[ -z "${CTR_WORKAROUND:-}" ] || skip "apus: $CTR_GAP (rest of the test passed with ctr run $CTR_WORKAROUND)"
}

setup_file() {
	e2e_require_bins containerd ctr containerd-shim-runc-v2 || return 0
	e2e_make_dir ctrd
	e2e_record_absent /run/containerd /run/containerd/s /run/containerd/runc \
		"/run/containerd/runc/$E2E_ID" /run/containerd/fifo
	mkdir -p "$E2E_DIR"/{ctrd,runc-root,fifo}
	e2e_build_rootfs
	e2e_build_oci_archive "$IMAGE" "$E2E_DIR/busybox-oci.tar"

	local d="$E2E_DIR/ctrd"
	cat >"$d/config.toml" <<-EOF
		version = 2
		root = "$d/root"
		state = "$d/state"
		disabled_plugins = ["io.containerd.grpc.v1.cri"]

		[grpc]
		  address = "$d/containerd.sock"

		[ttrpc]
		  address = "$d/containerd.sock.ttrpc"

		[debug]
		  address = ""

		[metrics]
		  address = ""

		[plugins."io.containerd.internal.v1.opt"]
		  path = "$d/opt"
	EOF
	# Detached from bats (own session, no inherited fds, re-parented).
	(
		_close_fds
		setsid containerd --config "$d/config.toml" </dev/null >"$d/containerd.log" 2>&1 &
		echo $! >"$d/pid"
	)
	local i
	for ((i = 0; i < 600; i++)); do
		[ -S "$d/containerd.sock" ] && c version >/dev/null 2>&1 && break
		sleep 0.1
	done
	if ! c version >/dev/null 2>&1; then
		echo "containerd did not start:" >&2
		tail -n 20 "$d/containerd.log" >&2
		return 1
	fi

	run c images import "$E2E_DIR/busybox-oci.tar"
	if [ "$status" -ne 0 ]; then
		echo "ctr images import failed: $output" >&2
		return 1
	fi

	# Does the runtime take ctr's default spec (cpu.shares 1024)?
	CTR_WORKAROUND=
	CTR_GAP=
	run c_run --rm "$IMAGE" e2e-probe true
	if [ "$status" -ne 0 ] && runtime_is_apus && grep -q 'linux\.resources\.cpu: not supported' <<<"$output"; then
		CTR_WORKAROUND="--cpu-shares 0"
		CTR_GAP=$(grep -m1 'linux\.resources\.cpu: not supported' <<<"$output")
	fi
	export CTR_WORKAROUND CTR_GAP
}

teardown_file() {
	[ -n "${E2E_DIR:-}" ] && [ -d "$E2E_DIR" ] || return 0
	local rc=0 left pid i
	c_cleanup_all
	pid=$(cat "$E2E_DIR/ctrd/pid" 2>/dev/null)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		for ((i = 0; i < 100; i++)); do
			pid_alive "$pid" || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null
	fi
	left=$(e2e_kill_leftovers "$E2E_ID")
	[ -n "$left" ] && { echo "teardown_file: killed leftover processes: $left" >&2; rc=1; }
	left=$(ls -A "$E2E_DIR/runc-root/$E2E_ID" 2>/dev/null)
	[ -n "$left" ] && { echo "teardown_file: runtime state left: $left" >&2; rc=1; }
	left=$(e2e_unmount_all "$E2E_DIR")
	[ -n "$left" ] && { echo "teardown_file: unmounted leftovers: $left" >&2; rc=1; }
	left=$(e2e_remove_cgroups "$E2E_ID")
	[ -n "$left" ] && { echo "teardown_file: cannot remove cgroups: $left" >&2; rc=1; }
	e2e_remove_if_created "/run/containerd/runc/$E2E_ID" /run/containerd/runc \
		/run/containerd/s /run/containerd/fifo /run/containerd
	rm -rf --one-file-system "$E2E_DIR"
	[ -e "$E2E_DIR" ] && { echo "teardown_file: cannot remove $E2E_DIR" >&2; rc=1; }
	return $rc
}

# c_cleanup_all: kill and delete every task and container in our namespace.
c_cleanup_all() {
	local id
	for id in $(c task ls -q 2>/dev/null); do
		c task kill -s SIGKILL "$id" >/dev/null 2>&1
	done
	for id in $(c task ls -q 2>/dev/null); do
		c task delete -f "$id" >/dev/null 2>&1
	done
	for id in $(c containers ls -q 2>/dev/null); do
		c containers delete "$id" >/dev/null 2>&1
	done
}

setup() {
	e2e_skip_unavailable
}

# Each test: delete its tasks and containers, then check that nothing of them
# is left: runtime state, container cgroups, shims.
teardown() {
	[ -z "${E2E_SKIP:-}" ] || return 0
	local rc=0 left i
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		e2e_dump_log "$E2E_DIR/ctrd/containerd.log" 8
	fi
	c_cleanup_all
	left=$(ls -A "$E2E_DIR/runc-root/$E2E_ID" 2>/dev/null)
	if [ -n "$left" ]; then
		echo "teardown: runtime state left behind: $left" >&2
		for i in $left; do
			timeout -k 5 20 "$RUNTIME" --root "$E2E_DIR/runc-root/$E2E_ID" delete --force "$i" </dev/null >/dev/null 2>&1
		done
		rc=1
	fi
	left=$(e2e_cgroup_dirs "$E2E_ID" | grep -vx "/sys/fs/cgroup/[^/]*/$E2E_ID" | grep -vx "/sys/fs/cgroup/$E2E_ID" || true)
	if [ -n "$left" ]; then
		echo "teardown: container cgroups left behind: $left" >&2
		for i in $left; do rmdir "$i" 2>/dev/null; done
		rc=1
	fi
	# shims exit once their tasks are deleted (up to 30 s on a loaded machine)
	for ((i = 0; i < 300; i++)); do
		[ -z "$(e2e_own_daemons | grep -vx "$(cat "$E2E_DIR/ctrd/pid")")" ] && break
		sleep 0.1
	done
	left=$(e2e_own_daemons | grep -vx "$(cat "$E2E_DIR/ctrd/pid")" || true)
	if [ -n "$left" ]; then
		echo "teardown: processes left behind: $left" >&2
		# shellcheck disable=SC2086
		kill -9 $left 2>/dev/null
		rc=1
	fi
	return $rc
}

# wait_task_status ID STATUS: poll `ctr task ls` (10 s).
task_status() { c task ls 2>/dev/null | awk -v id="$1" '$1 == id { print $3 }'; }
task_pid() { c task ls 2>/dev/null | awk -v id="$1" '$1 == id { print $2 }'; }
wait_task_status() {
	local i cur
	for ((i = 0; i < 100; i++)); do
		cur=$(task_status "$1")
		[ "$cur" = "$2" ] && return 0
		sleep 0.1
	done
	echo "task $1: status '$cur', wanted '$2'" >&2
	return 1
}

# ctr_run_detached ID ARGS...: `ctr run -d` (its stdio to files).
ctr_run_detached() {
	local id=$1
	shift
	# shellcheck disable=SC2046
	run e2e_bounded ctr --address "$E2E_DIR/ctrd/containerd.sock" --namespace "$E2E_ID" \
		run -d $(ctr_flags) "$@" "$IMAGE" "$id" sleep 1000
	assert_status 0
	wait_task_status "$id" RUNNING
}

@test "ctr run: containerd's default spec (cpu.shares 1024) is accepted and applied" {
	local pid
	run e2e_bounded ctr --address "$E2E_DIR/ctrd/containerd.sock" --namespace "$E2E_ID" \
		run -d --runc-binary "$RUNTIME" --runc-root "$E2E_DIR/runc-root" --fifo-dir "$E2E_DIR/fifo" \
		"$IMAGE" e2e-shares sleep 1000
	skip_on_apus_gap 'linux\.resources\.cpu: not supported'
	assert_status 0
	wait_task_status e2e-shares RUNNING
	pid=$(task_pid e2e-shares)
	assert_equal "$(cat "$(e2e_cgroup_file "$pid" cpu cpu.shares)")" 1024
}

@test "ctr run --rm: prints the output and propagates the exit status" {
	run c_run --rm "$IMAGE" e2e-rm sh -c 'echo hello from the container; exit 3'
	assert_status 3
	assert_line_equal "hello from the container"

	run c_run --rm "$IMAGE" e2e-rm2 echo second run
	assert_status 0
	assert_line_equal "second run"

	run c containers ls -q
	assert_equal "$output" ""
	skip_if_worked_around
}

@test "ctr run -d + task exec + task ps + task kill + task delete" {
	local pid
	ctr_run_detached e2e-exec
	pid=$(task_pid e2e-exec)
	pid_alive "$pid"

	run c task exec --exec-id x1 --fifo-dir "$E2E_DIR/fifo" e2e-exec echo from exec
	assert_status 0
	assert_line_equal "from exec"

	run c task exec --exec-id x2 --fifo-dir "$E2E_DIR/fifo" e2e-exec sh -c 'exit 5'
	assert_status 5

	run c task exec --exec-id x3 --fifo-dir "$E2E_DIR/fifo" e2e-exec cat /proc/1/comm
	assert_status 0
	assert_line_equal "sleep"

	# `task ps` is the runtime's `ps --format json`
	run c task ps e2e-exec
	assert_status 0
	assert_match "(^|[[:space:]])$pid([[:space:]]|$)"

	run c task kill -s SIGKILL e2e-exec
	assert_status 0
	wait_task_status e2e-exec STOPPED
	pid_alive "$pid" && { echo "pid $pid alive after kill" >&2; false; }

	run c task delete e2e-exec
	assert_status 0
	[ -z "$(task_status e2e-exec)" ]
	[ -z "$(ls -A "$E2E_DIR/runc-root/$E2E_ID" 2>/dev/null)" ]
	run c containers delete e2e-exec
	assert_status 0
	skip_if_worked_around
}

@test "ctr run --tty (under script): a tty inside, exit status propagates" {
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	# shellcheck disable=SC2046
	run e2e_in_tty ctr --address "$E2E_DIR/ctrd/containerd.sock" --namespace "$E2E_ID" \
		run --rm --tty $(ctr_flags) "$IMAGE" e2e-tty sh -c 'test -t 0 && test -t 1 && echo tty-ok; tty; exit 4'
	assert_status 4
	assert_output_contains "tty-ok"
	assert_match '/dev/pts/[0-9]+'
	skip_if_worked_around
}

@test "ctr task pause / resume" {
	local pid
	ctr_run_detached e2e-pause
	pid=$(task_pid e2e-pause)

	run c task pause e2e-pause
	assert_status 0
	assert_equal "$(task_status e2e-pause)" PAUSED
	assert_equal "$(e2e_freezer_state "$pid")" FROZEN

	run c task resume e2e-pause
	assert_status 0
	assert_equal "$(task_status e2e-pause)" RUNNING
	assert_equal "$(e2e_freezer_state "$pid")" THAWED
	run c task exec --exec-id x1 --fifo-dir "$E2E_DIR/fifo" e2e-pause echo alive after resume
	assert_status 0
	assert_line_equal "alive after resume"
	skip_if_worked_around
}

@test "ctr run --seccomp: containerd's default profile is applied" {
	run c_run --rm --seccomp "$IMAGE" e2e-seccomp grep '^Seccomp:' /proc/self/status
	assert_status 0
	assert_match '^Seccomp:[[:space:]]+2$'

	# ctr applies no profile without --seccomp
	run c_run --rm "$IMAGE" e2e-noseccomp grep '^Seccomp:' /proc/self/status
	assert_status 0
	assert_match '^Seccomp:[[:space:]]+0$'
	skip_if_worked_around
}

@test "ctr run --memory-limit --read-only --cap-drop: limits applied" {
	local pid
	ctr_run_detached e2e-limits --memory-limit 67108864 --read-only --cap-drop CAP_NET_RAW
	pid=$(task_pid e2e-limits)
	# ctr's spec has no /sys/fs/cgroup mount: read the limit from the host
	assert_equal "$(cat "$(e2e_cgroup_file "$pid" memory memory.limit_in_bytes)")" 67108864

	run c task exec --exec-id x1 --fifo-dir "$E2E_DIR/fifo" e2e-limits sh -c 'touch /x 2>&1; echo "touch=$?"; grep "^CapBnd:" /proc/self/status'
	assert_status 0
	assert_output_contains "Read-only file system"
	assert_line_equal "touch=1"
	# CAP_NET_RAW is bit 13
	local bnd
	bnd=$(awk '$1 == "CapBnd:" { print $2 }' <<<"$output")
	[ -n "$bnd" ]
	(((0x$bnd >> 13) & 1)) && { echo "CAP_NET_RAW still in the bounding set: $bnd" >&2; false; }
	skip_if_worked_around
}

# containerd's shim reads the container's cgroups itself (it never calls the
# runtime's `events`): what this shows is that they are where it looks.
@test "ctr task metrics: the shim's stats come from the cgroups the runtime made (memory limit, pids, cpu)" {
	local pid
	ctr_run_detached e2e-metrics --memory-limit 67108864
	pid=$(task_pid e2e-metrics)
	run c task metrics --format json e2e-metrics
	assert_status 0
	# cgroup v1 metrics (this host) or v2's
	assert_equal "$(jq -r '.memory.usage.limit // .memory.usage_limit' <<<"$output")" 67108864
	assert_equal "$(jq -r '.pids.current' <<<"$output")" "$(cat "$(e2e_cgroup_file "$pid" pids pids.current)")"
	[ "$(jq -r '.cpu.usage.total // .cpu.usage_usec' <<<"$output")" -gt 0 ]
	skip_if_worked_around
}
