#!/usr/bin/env bats
# End to end: podman 4.3 (conmon, cgroupfs, no network) running real
# containers with $RUNTIME as its OCI runtime, in private state:
#   --root/--runroot/--tmpdir under E2E_DIR, CONTAINERS_CONF=E2E_DIR/containers.conf
#   (lower default_ulimits: the host's hard limits are below podman's 1048576;
#   file events and logs; CNI/netavark config dir in E2E_DIR), HOME=E2E_DIR/home,
#   --cgroup-parent /E2E_ID on every container (no libpod_parent).
# The runtime podman runs is E2E_DIR/bin/<basename of RUNTIME>, a two-line
# script: podman 4.3 gives --runtime-flag values to create/start/exec/kill but
# not to `delete --force`, so the private --root is added there (and every
# call is logged to E2E_DIR/runtime-calls.log, shown when a test fails).
# See docs/capture-notes.md.

load e2e-helpers

IMAGE=localhost/busybox:e2e

# pm ARGS...: podman with the private configuration (see setup_file).
pm() { e2e_bounded "$E2E_DIR/bin/pm" "$@"; }

# pm_run ARGS...: `podman run` with our cgroup parent.
pm_run() { pm run --cgroup-parent "/$E2E_ID" "$@"; }

setup_file() {
	e2e_require_bins podman conmon || return 0
	e2e_make_dir podman
	e2e_record_absent /var/lib/containers /var/lib/containers/cache \
		/var/lib/containers/cache/blob-info-cache-v1.boltdb \
		/run/containers /run/containers/networks /etc/cni/net.d/cni.lock
	mkdir -p "$E2E_DIR"/{home,net,podman/tmp,runtime-root}
	e2e_build_rootfs

	local rt
	# A working CRIU for checkpoint/restore, on podman's PATH too (empty: those tests skip).
	E2E_CRIU=$("$BATS_TEST_DIRNAME/../tools/criu.sh" --find 2>/dev/null || true)
	export E2E_CRIU
	rt="$E2E_DIR/bin/$(basename "$RUNTIME")"
	cat >"$rt" <<-EOF
		#!/bin/sh
		echo "\$(date +%T.%N) \$*" >>$E2E_DIR/runtime-calls.log
		exec $RUNTIME --root $E2E_DIR/runtime-root ${E2E_CRIU:+--criu $E2E_CRIU} "\$@"
	EOF
	chmod 755 "$rt"

	cat >"$E2E_DIR/containers.conf" <<-EOF
		[containers]
		default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
		netns = "none"
		log_driver = "k8s-file"

		[engine]
		cgroup_manager = "cgroupfs"
		events_logger = "file"
		image_copy_tmp_dir = "$E2E_DIR/podman/tmp"
		conmon_env_vars = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]

		[network]
		network_config_dir = "$E2E_DIR/net"
	EOF

	cat >"$E2E_DIR/bin/pm" <<-EOF
		#!/bin/sh
		export CONTAINERS_CONF=$E2E_DIR/containers.conf HOME=$E2E_DIR/home TMPDIR=$E2E_DIR/podman/tmp
		exec podman --root $E2E_DIR/podman/root --runroot $E2E_DIR/podman/runroot \\
			--tmpdir $E2E_DIR/podman/tmp --cgroup-manager cgroupfs --storage-driver overlay \\
			--events-backend file --runtime $rt "\$@"
	EOF
	chmod 755 "$E2E_DIR/bin/pm"

	run pm import "$E2E_DIR/busybox.tar" "$IMAGE"
	if [ "$status" -ne 0 ]; then
		echo "podman import failed: $output" >&2
		return 1
	fi
}

teardown_file() {
	[ -n "${E2E_DIR:-}" ] && [ -d "$E2E_DIR" ] || return 0
	E2E_CMD_TIMEOUT=30 pm rm -a -f -t 0 >/dev/null 2>&1
	E2E_CMD_TIMEOUT=30 pm system reset -f >/dev/null 2>&1
	# (podman leaves <cgroup-parent>/conmon and the parent behind by design)
	e2e_final_cleanup "$E2E_DIR/runtime-root" /var/lib/containers/cache/blob-info-cache-v1.boltdb \
		/var/lib/containers/cache /var/lib/containers \
		/run/containers/networks /run/containers /etc/cni/net.d/cni.lock
}

setup() {
	e2e_skip_unavailable
}

# Each test: remove its containers, then check that the runtime cleaned up
# after podman's `delete --force`: no state dir, no container cgroup.
teardown() {
	[ -z "${E2E_SKIP:-}" ] || return 0
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		e2e_dump_log "$E2E_DIR/runtime-calls.log" 12
	fi
	pm rm -a -f -t 0 >/dev/null 2>&1
	e2e_check_after_test "$E2E_DIR/runtime-root" '/libpod-'
}

# wait_pm_status NAME STATUS: poll `podman inspect` (10 s).
pm_status() { pm inspect -f '{{.State.Status}}' "$1" 2>/dev/null; }
wait_pm_status() {
	local i cur
	for ((i = 0; i < 100; i++)); do
		cur=$(pm_status "$1")
		[ "$cur" = "$2" ] && return 0
		sleep 0.1
	done
	echo "container $1: status '$cur', wanted '$2'" >&2
	return 1
}

# pm_count NAME: what the counting container wrote last (0 if nothing yet).
pm_count() {
	local n
	n=$(pm exec "$1" cat /tmp/count 2>/dev/null)
	[[ $n =~ ^[0-9]+$ ]] && echo "$n" || echo 0
}
pm_count_above() { [ "$(pm_count "$1")" -gt "$2" ]; }

# the runtime's private state root holds no container any more
assert_root_empty_e2e() {
	local left
	left=$(ls -A "$E2E_DIR/runtime-root" 2>/dev/null)
	[ -z "$left" ] || { echo "runtime state left: $left" >&2; return 1; }
}

@test "podman run --rm: prints the output, propagates the exit code, removes the container" {
	run pm_run --rm "$IMAGE" sh -c 'echo hello from the container; exit 3'
	assert_status 3
	assert_line_equal "hello from the container"

	run pm_run --rm "$IMAGE" echo second run
	assert_status 0
	assert_line_equal "second run"

	run pm ps -a -q
	assert_status 0
	assert_equal "$output" ""
}

@test "podman run -d + exec + stop + rm" {
	local name=e2e-exec pid
	# sh as pid 1 only dies of SIGTERM with a handler: exit 0 on TERM.
	run pm_run -d --name "$name" "$IMAGE" sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
	assert_status 0
	wait_pm_status "$name" running
	pid=$(pm inspect -f '{{.State.Pid}}' "$name")
	[ -n "$pid" ]
	pid_alive "$pid"

	run pm exec "$name" echo from exec
	assert_status 0
	assert_line_equal "from exec"

	run pm exec "$name" sh -c 'exit 7'
	assert_status 7

	# exec joins the container: same pid namespace (sh is pid 1), same seccomp.
	run pm exec "$name" sh -c 'cat /proc/1/comm; grep "^Seccomp:" /proc/self/status'
	assert_status 0
	assert_line_equal "sh"
	assert_match 'Seccomp:[[:space:]]+2'

	SECONDS=0
	run pm stop -t 20 "$name"
	assert_status 0
	[ "$SECONDS" -lt 15 ] || { echo "stop took ${SECONDS}s: SIGTERM not delivered?" >&2; false; }
	assert_equal "$(pm_status "$name")" exited
	assert_equal "$(pm inspect -f '{{.State.ExitCode}}' "$name")" 0
	pid_alive "$pid" && { echo "pid $pid still alive after stop" >&2; false; }

	run pm rm "$name"
	assert_status 0
	run pm ps -a -q
	assert_equal "$output" ""
	assert_root_empty_e2e
}

@test "podman run -t (under script): a tty inside, exit code propagates" {
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	run e2e_in_tty "$E2E_DIR/bin/pm" run --rm -t --cgroup-parent "/$E2E_ID" "$IMAGE" \
		sh -c 'test -t 0 && test -t 1 && echo tty-ok; tty; exit 4'
	assert_status 4
	assert_line_equal "tty-ok"
	assert_match '/dev/pts/[0-9]+'
}

@test "podman pause / unpause" {
	local name=e2e-pause pid
	run pm_run -d --name "$name" "$IMAGE" sleep 1000
	assert_status 0
	wait_pm_status "$name" running
	pid=$(pm inspect -f '{{.State.Pid}}' "$name")

	run pm pause "$name"
	assert_status 0
	assert_equal "$(pm_status "$name")" paused
	assert_equal "$(e2e_freezer_state "$pid")" FROZEN

	run pm unpause "$name"
	assert_status 0
	assert_equal "$(pm_status "$name")" running
	assert_equal "$(e2e_freezer_state "$pid")" THAWED
	run pm exec "$name" echo alive after unpause
	assert_status 0
	assert_line_equal "alive after unpause"

	run pm rm -f -t 0 "$name"
	assert_status 0
}

@test "podman run --user --read-only --pids-limit 50 --memory 64m --cap-drop ALL: limits visible inside" {
	run pm_run --rm --user 1000:1000 --read-only --pids-limit 50 --memory 64m --cap-drop ALL "$IMAGE" sh -c '
		echo "uid=$(id -u) gid=$(id -g)"
		echo "pids.max=$(cat /sys/fs/cgroup/pids/pids.max)"
		echo "memory.limit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"
		grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb):" /proc/self/status
		touch /rootfs-write 2>&1; echo "touch=$?"'
	skip_on_apus_gap 'linux\.resources\.memory\.swap: not supported' \
		'mounts\[[0-9]+\] \([^)]*\): mount\(tmpfs, .*Invalid argument'
	assert_status 0
	assert_line_equal "uid=1000 gid=1000"
	assert_line_equal "pids.max=50"
	assert_line_equal "memory.limit=67108864"
	assert_match 'CapEff:[[:space:]]+0000000000000000'
	assert_match 'CapPrm:[[:space:]]+0000000000000000'
	assert_match 'CapBnd:[[:space:]]+0000000000000000'
	assert_output_contains "Read-only file system"
	assert_line_equal "touch=1"
}

@test "podman run --user 1000:1000" {
	run pm_run --rm --user 1000:1000 "$IMAGE" sh -c 'id -u; id -g; grep "^CapEff:" /proc/self/status'
	assert_status 0
	assert_equal "$(sed -n 1p <<<"$output")" 1000
	assert_equal "$(sed -n 2p <<<"$output")" 1000
	assert_match 'CapEff:[[:space:]]+0000000000000000'
}

@test "podman run --read-only: / is read-only, /tmp /run /var/tmp are writable tmpfs (tmpcopyup)" {
	run pm_run --rm --read-only "$IMAGE" sh -c '
		touch /rootfs-write 2>&1; echo "root=$?"
		for d in /tmp /run /var/tmp; do touch $d/x && echo "$d=ok"; done
		grep " /tmp " /proc/mounts'
	skip_on_apus_gap 'mounts\[[0-9]+\] \([^)]*\): mount\(tmpfs, .*Invalid argument'
	assert_status 0
	assert_output_contains "Read-only file system"
	assert_line_equal "root=1"
	assert_line_equal "/tmp=ok"
	assert_line_equal "/run=ok"
	assert_line_equal "/var/tmp=ok"
	assert_match 'tmpfs /tmp tmpfs rw'
}

@test "podman run --tmpfs DIR: the image's files are copied up (tmpcopyup)" {
	run pm_run --rm --tmpfs /data "$IMAGE" sh -c 'cat /data/marker; touch /data/new && echo writable; grep " /data " /proc/mounts'
	skip_on_apus_gap 'mounts\[[0-9]+\] \([^)]*\): mount\(tmpfs, .*Invalid argument'
	assert_status 0
	assert_line_equal "copied-up"
	assert_line_equal "writable"
	assert_match 'tmpfs /data tmpfs'
}

@test "podman run --read-only --tmpfs /scratch:size=4m,mode=1777: the tmpfs has that mode and size" {
	run pm_run --rm --read-only --tmpfs /scratch:size=4m,mode=1777 "$IMAGE" sh -c '
		stat -c "mode=%a" /scratch
		stat -f -c "size=%b*%S" /scratch
		touch /scratch/x && echo scratch-writable'
	assert_status 0
	assert_line_equal "mode=1777"
	assert_line_equal "scratch-writable"
	local size
	size=$(grep -o '^size=.*' <<<"$output")
	assert_equal "$((${size#size=}))" $((4 * 1024 * 1024))

	# the same over a directory of the image (copied up): the mode asked for
	# wins (runc 1.1.5 gives the directory's 755: docs/runc-behaviour.md §14)
	runtime_is_apus || return 0
	run pm_run --rm --read-only --tmpfs /data:mode=1777 "$IMAGE" sh -c 'stat -c "mode=%a" /data; cat /data/marker'
	assert_status 0
	assert_line_equal "mode=1777"
	assert_line_equal "copied-up"
}

@test "podman run --pids-limit 50" {
	run pm_run --rm --pids-limit 50 "$IMAGE" cat /sys/fs/cgroup/pids/pids.max
	assert_status 0
	assert_equal "$output" 50
}

@test "podman run --memory 64m (memory.limit_in_bytes, swap = 2x limit)" {
	run pm_run --rm --memory 64m "$IMAGE" sh -c '
		echo "limit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"
		f=/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes
		if [ -e $f ]; then echo "memsw=$(cat $f)"; else echo "memsw=134217728"; fi'
	skip_on_apus_gap 'linux\.resources\.memory\.swap: not supported'
	assert_status 0
	assert_line_equal "limit=67108864"
	assert_line_equal "memsw=134217728"
}

@test "podman run --cpus 0.5 (cpu.cfs_quota_us)" {
	run pm_run --rm --cpus 0.5 "$IMAGE" sh -c '
		echo "quota=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) period=$(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)"'
	skip_on_apus_gap 'linux\.resources\.cpu: not supported'
	assert_status 0
	assert_line_equal "quota=50000 period=100000"
}

@test "podman update --memory --memory-swap --cpu-shares --cpus of a running container" {
	local name=e2e-update
	run pm_run -d --name "$name" --memory 64m --cpu-shares 512 "$IMAGE" sleep 1000
	assert_status 0
	wait_pm_status "$name" running
	run pm update --memory 96m --memory-swap 192m --cpu-shares 256 --cpus 0.5 "$name"
	assert_status 0
	run pm exec "$name" sh -c '
		echo "mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"
		f=/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes
		if [ -e $f ]; then echo "memsw=$(cat $f)"; else echo "memsw=$((192 * 1024 * 1024))"; fi
		echo "shares=$(cat /sys/fs/cgroup/cpu/cpu.shares)"
		echo "quota=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) period=$(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)"'
	assert_status 0
	assert_line_equal "mem=$((96 * 1024 * 1024))"
	assert_line_equal "memsw=$((192 * 1024 * 1024))"
	assert_line_equal "shares=256"
	assert_line_equal "quota=50000 period=100000"
	run pm rm -f -t 0 "$name"
	assert_status 0
}

@test "podman run --cap-drop ALL" {
	run pm_run --rm --cap-drop ALL "$IMAGE" sh -c 'id -u; grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb):" /proc/self/status; chown 1:1 /tmp 2>&1; echo "chown=$?"'
	assert_status 0
	assert_line_equal 0
	local c
	for c in CapInh CapPrm CapEff CapBnd CapAmb; do
		assert_match "$c:[[:space:]]+0000000000000000"
	done
	assert_line_equal "chown=1"
}

@test "podman run --privileged: all capabilities, no seccomp" {
	local bnd
	# every capability this host's bounding set has (here CAP_SYS_RESOURCE is missing)
	bnd=$(awk '$1 == "CapBnd:" { print $2 }' /proc/self/status)
	run pm_run --rm --privileged "$IMAGE" sh -c 'grep -E "^(CapEff|Seccomp):" /proc/self/status'
	assert_status 0
	assert_match "CapEff:[[:space:]]+$bnd"
	assert_match 'Seccomp:[[:space:]]+0'
}

@test "podman run: podman's default seccomp profile is applied" {
	run pm_run --rm "$IMAGE" grep '^Seccomp:' /proc/self/status
	assert_status 0
	assert_match '^Seccomp:[[:space:]]+2$'

	run pm_run --rm --security-opt seccomp=unconfined "$IMAGE" grep '^Seccomp:' /proc/self/status
	assert_status 0
	assert_match '^Seccomp:[[:space:]]+0$'
}

@test "podman run --uidmap/--gidmap: a user namespace" {
	run pm_run --rm --uidmap 0:100000:65536 --gidmap 0:100000:65536 "$IMAGE" sh -c 'id -u; cat /proc/self/uid_map /proc/self/gid_map'
	assert_status 0
	assert_line_equal 0
	[ "$(grep -cE '^[[:space:]]*0[[:space:]]+100000[[:space:]]+65536' <<<"$output")" -eq 2 ]
}

@test "podman run --uidmap -v DIR:/data:idmap: the volume keeps the host's owners both ways" {
	is_runc_before_1_2 && skip "runc 1.1 ignores idmap (the volume shows nobody's files)"
	local vol="$E2E_DIR/idmap-volume"
	mkdir -p "$vol"
	chmod 777 "$vol"
	echo host >"$vol/by-1000"
	chown 1000:1000 "$vol/by-1000"
	run pm_run --rm --uidmap 0:100000:65536 --gidmap 0:100000:65536 -v "$vol:/data:idmap" "$IMAGE" \
		sh -c 'stat -c %u:%g /data/by-1000; touch /data/made-inside && echo made'
	assert_status 0
	assert_line_equal 1000:1000
	assert_line_equal made
	# the container's root (host 100000) wrote through the mapping as host root
	assert_equal "$(stat -c %u:%g "$vol/made-inside")" 0:0
}

# podman reads the container's cgroups itself (it never calls the runtime's
# `events`): what this shows is that they are where it looks.
@test "podman stats --no-stream: read from the cgroups the runtime made (memory limit, pids)" {
	local name=e2e-stats
	run pm_run -d --name "$name" --memory 64m --pids-limit 50 "$IMAGE" sleep 1000
	skip_on_apus_gap 'linux\.resources\.memory\.swap: not supported'
	assert_status 0
	wait_pm_status "$name" running
	run pm stats --no-stream --format json "$name"
	assert_status 0
	assert_equal "$(jq -r '.[0].name' <<<"$output")" "$name"
	assert_match '"mem_usage": *"[0-9.]+[kMG]?B / 67\.11MB"'
	assert_equal "$(jq -r '.[0].pids' <<<"$output")" 1
	run pm rm -f -t 0 "$name"
	assert_status 0
}

@test "podman container checkpoint / restore: the process continues" {
	[ -n "$E2E_CRIU" ] || skip "no working CRIU (make deps)"
	local name=e2e-cr before after
	mkdir -p "$E2E_DIR/criu-bin"
	ln -sf "$E2E_CRIU" "$E2E_DIR/criu-bin/criu"
	run pm_run -d --name "$name" "$IMAGE" sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/count; sleep 0.1; done'
	assert_status 0
	wait_pm_status "$name" running
	# (counted to 5 before the dump, and on after the restore: waited for,
	# a fixed second is not enough on a loaded machine)
	wait_until 30 pm_count_above "$name" 5
	PATH="$E2E_DIR/criu-bin:$PATH" run pm container checkpoint "$name"
	assert_status 0
	assert_equal "$(pm_status "$name")" exited
	PATH="$E2E_DIR/criu-bin:$PATH" run pm container restore "$name"
	assert_status 0
	wait_pm_status "$name" running
	before=$(pm_count "$name")
	[ "$before" -gt 5 ]
	wait_until 30 pm_count_above "$name" "$before"
	run pm rm -f -t 0 "$name"
	assert_status 0
}
