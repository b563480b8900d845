#!/usr/bin/env bats
# End to end: dockerd 20.10 (Debian docker.io; its own managed containerd and
# the io.containerd.runc.v2 shim) running real containers with $RUNTIME as the
# default runtime, against a private dockerd started in setup_file:
#   --data-root, --exec-root, --pidfile, -H unix://…/docker.sock, its
#   daemon.json (trust key path) and containerd state all in E2E_DIR;
#   --iptables=false --ip6tables=false --bridge=none --ip-forward=false
#   --ip-masq=false (nothing changed in the host's network), overlay2,
#   --cgroup-parent /E2E_ID (so container cgroups are /sys/fs/cgroup/*/E2E_ID/<id>).
# The runtime is registered as `--add-runtime NAME=E2E_DIR/bin/NAME
# --default-runtime NAME` (NAME is apus, or runc-e2e when RUNTIME is runc:
# dockerd reserves "runc"); that two-line script logs every call to
# E2E_DIR/runtime-calls.log (shown when a test fails) and execs RUNTIME.
# dockerd gives every runtime --root E2E_DIR/exec/runtime-runc/moby itself
# (20.10 names that directory after runc whatever the runtime).
# The image is `docker import` of the busybox tarball (e2e_build_rootfs).
# The shim's sockets live in /run/containerd/s (containerd 1.6), and dockerd
# always makes /run/docker/plugins: teardown_file removes those it made.
#
#   bats conformance/e2e-docker.bats
#   RUNTIME=/usr/sbin/runc bats conformance/e2e-docker.bats

load e2e-helpers

IMAGE=localhost/busybox:e2e
DOCKER_BIN=${DOCKER_BIN:-/usr/bin/docker}

# dk ARGS...: the docker client against our daemon (E2E_DIR/bin/dk sets
# DOCKER_HOST, and DOCKER_CONFIG so nothing is written in ~/.docker).
dk() { e2e_bounded "$E2E_DIR/bin/dk" "$@"; }

# The runtime's name in dockerd, and the state root dockerd gives it.
dk_runtime_name() {
	case "$(basename "$RUNTIME")" in
	runc) echo runc-e2e ;;
	*) basename "$RUNTIME" ;;
	esac
}
dk_state_root() { echo "$E2E_DIR/exec/runtime-runc/moby"; }

# dk_start: start the private dockerd and wait for its API (60 s).
dk_start() {
	local d=$E2E_DIR name i
	name=$(dk_runtime_name)
	# The trust key (dockerd's ID) would otherwise go to /etc/docker/key.json.
	jq -n --arg k "$d/key.json" '{"deprecated-key-path": $k}' >"$d/daemon.json"
	(
		_close_fds
		setsid dockerd --config-file "$d/daemon.json" --data-root "$d/data" --exec-root "$d/exec" \
			--pidfile "$d/docker.pid" -H "unix://$d/docker.sock" \
			--iptables=false --ip6tables=false --bridge=none --ip-forward=false --ip-masq=false \
			--userland-proxy=false --storage-driver overlay2 --exec-opt native.cgroupdriver=cgroupfs \
			--cgroup-parent "/$E2E_ID" --shutdown-timeout 5 \
			--add-runtime "$name=$d/bin/$name" --default-runtime "$name" \
			</dev/null >"$d/dockerd.log" 2>&1 &
		echo $! >"$d/dockerd.pid"
	)
	for ((i = 0; i < 600; i++)); do
		[ -S "$d/docker.sock" ] && dk version >/dev/null 2>&1 && return 0
		pid_alive "$(cat "$d/dockerd.pid")" || break
		sleep 0.1
	done
	echo "dockerd did not start:" >&2
	tail -n 20 "$d/dockerd.log" >&2
	return 1
}

# dk_stop: SIGTERM dockerd (it stops its containers and its containerd),
# SIGKILL after 30 s.
dk_stop() {
	local pid i
	pid=$(cat "$E2E_DIR/dockerd.pid" 2>/dev/null)
	[ -n "$pid" ] && pid_alive "$pid" || return 0
	kill "$pid"
	for ((i = 0; i < 300; i++)); do
		pid_alive "$pid" || return 0
		sleep 0.1
	done
	echo "dockerd did not stop in 30 s: SIGKILL" >&2
	kill -9 "$pid" 2>/dev/null
	return 1
}

setup_file() {
	e2e_require_bins dockerd "$DOCKER_BIN" containerd containerd-shim-runc-v2 || return 0
	e2e_make_dir docker
	e2e_record_absent /run/containerd /run/containerd/s /etc/docker/key.json /run/docker /run/docker/plugins
	mkdir -p "$E2E_DIR"/{client,vol-rw,vol-ro}
	e2e_build_rootfs

	local rt
	rt="$E2E_DIR/bin/$(dk_runtime_name)"
	cat >"$rt" <<-EOF
		#!/bin/sh
		echo "\$(date +%T.%N) \$*" >>$E2E_DIR/runtime-calls.log
		exec $RUNTIME "\$@"
	EOF
	chmod 755 "$rt"
	cat >"$E2E_DIR/bin/dk" <<-EOF
		#!/bin/sh
		export DOCKER_HOST=unix://$E2E_DIR/docker.sock DOCKER_CONFIG=$E2E_DIR/client
		exec $DOCKER_BIN "\$@"
	EOF
	chmod 755 "$E2E_DIR/bin/dk"

	dk_start || return 1
	run dk import "$E2E_DIR/busybox.tar" "$IMAGE"
	if [ "$status" -ne 0 ]; then
		echo "docker import failed: $output" >&2
		return 1
	fi
}

teardown_file() {
	[ -n "${E2E_DIR:-}" ] && [ -d "$E2E_DIR" ] || return 0
	local rc=0
	dk_rm_all
	dk_stop || rc=1
	dk_remove_shim_sockets
	# then dockerd's containerd and shims if still there, our cgroups, mounts
	e2e_final_cleanup "$(dk_state_root)" /etc/docker/key.json /run/containerd/s /run/containerd \
		/run/docker/plugins /run/docker || rc=1
	return $rc
}

# dk_remove_shim_sockets: the sockets of our shims in /run/containerd/s,
# left there when a shim was killed (containerd 1.6 names each
# sha256("<containerd address>/<namespace>/<id>")).
dk_remove_shim_sockets() {
	local t h
	for t in "$E2E_DIR"/exec/containerd/daemon/io.containerd.runtime.v2.task/moby/*; do
		[ -d "$t" ] || continue
		h=$(printf '%s' "$E2E_DIR/exec/containerd/containerd.sock/moby/${t##*/}" | sha256sum | cut -d' ' -f1)
		[ -S "/run/containerd/s/$h" ] || continue
		echo "teardown_file: removing the socket of shim ${t##*/}" >&2
		rm -f "/run/containerd/s/$h"
	done
}

# dk_rm_all: remove every container (and so its runtime state).
dk_rm_all() {
	local ids
	ids=$(dk ps -aq 2>/dev/null)
	# shellcheck disable=SC2086
	[ -z "$ids" ] || dk rm -f $ids >/dev/null 2>&1
}

setup() {
	e2e_skip_unavailable
}

# Each test: remove its containers, then check that the runtime cleaned up
# after dockerd's `delete`: no state dir, no container cgroup.
teardown() {
	[ -z "${E2E_SKIP:-}" ] || return 0
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		e2e_dump_log "$E2E_DIR/runtime-calls.log" 12
		e2e_dump_log "$E2E_DIR/dockerd.log" 8
	fi
	dk_rm_all
	e2e_check_after_test "$(dk_state_root)" "/$E2E_ID/"
}

# dk_inspect NAME FORMAT
dk_inspect() { dk inspect -f "$2" "$1" 2>/dev/null; }

# wait_dk_status NAME STATUS: poll `docker inspect` (20 s).
wait_dk_status() {
	local i cur
	for ((i = 0; i < 200; i++)); do
		cur=$(dk_inspect "$1" '{{.State.Status}}')
		[ "$cur" = "$2" ] && return 0
		sleep 0.1
	done
	echo "container $1: status '$cur', wanted '$2'" >&2
	return 1
}

# dk_run_detached NAME ARGS...: `docker run -d --name NAME ARGS... IMAGE`
# running a shell that exits 0 on SIGTERM and echoes USR1; waits for running.
dk_run_detached() {
	local name=$1
	shift
	run dk run -d --network none --name "$name" "$@" "$IMAGE" \
		sh -c 'trap "echo got-term; exit 0" TERM; trap "echo got-usr1" USR1; echo started; while :; do sleep 0.1; done'
	assert_status 0
	wait_dk_status "$name" running
}

# wait_log NAME LINE: poll `docker logs` until LINE appears (20 s).
wait_log() {
	local i
	for ((i = 0; i < 200; i++)); do
		dk logs "$1" 2>&1 | grep -Fxq -- "$2" && return 0
		sleep 0.1
	done
	echo "container $1: no line '$2' in its logs:" >&2
	dk logs "$1" >&2
	return 1
}

# dk_run ARGS...: `docker run --rm --network none ARGS` (IMAGE and the
# command in ARGS). A container on dockerd's default network gets a warning
# on stderr here (the host does not forward IPv4).
dk_run() { dk run --rm --network none "$@"; }

@test "docker run: output, exit code, --rm removes the container" {
	run dk_run "$IMAGE" sh -c 'echo hello from the container; exit 3'
	assert_status 3
	assert_line_equal "hello from the container"

	run dk_run "$IMAGE" sh -c 'cat /proc/1/comm; grep "^Seccomp:" /proc/self/status'
	assert_status 0
	assert_line_equal "sh"
	# dockerd's default seccomp profile is applied
	assert_match 'Seccomp:[[:space:]]+2'

	run dk ps -aq
	assert_status 0
	assert_equal "$output" ""
}

@test "docker run -d + exec exit codes + logs + top + stop + rm" {
	local name=e2e-exec pid
	dk_run_detached "$name"
	pid=$(dk_inspect "$name" '{{.State.Pid}}')
	pid_alive "$pid"
	# the runtime's state, where teardown looks for leftovers
	[ -d "$(dk_state_root)/$(dk_inspect "$name" '{{.Id}}')" ]

	run dk exec "$name" echo from exec
	assert_status 0
	assert_line_equal "from exec"
	run dk exec "$name" sh -c 'exit 7'
	assert_status 7
	# dockerd's exit codes for a failed exec (126) and a missing
	# command in `docker run` (127, from the runtime's error text)
	run dk exec "$name" /no/such/binary
	assert_status 126
	run -127 dk_run "$IMAGE" /no/such/binary
	assert_status 127
	assert_match 'no such file or directory'
	run -126 dk_run "$IMAGE" /etc
	assert_match 'permission denied'
	# exec joins the container's pid namespace and seccomp
	run dk exec "$name" sh -c 'cat /proc/1/comm; grep "^Seccomp:" /proc/self/status'
	assert_status 0
	assert_line_equal "sh"
	assert_match 'Seccomp:[[:space:]]+2'

	run dk logs "$name"
	assert_status 0
	assert_line_equal started

	# docker top: the runtime's `ps --format json`
	run dk top "$name"
	assert_status 0
	assert_match "sh -c trap"

	SECONDS=0
	run dk stop -t 20 "$name"
	assert_status 0
	[ "$SECONDS" -lt 15 ] || { echo "stop took ${SECONDS}s: SIGTERM not delivered?" >&2; false; }
	assert_equal "$(dk_inspect "$name" '{{.State.Status}}')" exited
	assert_equal "$(dk_inspect "$name" '{{.State.ExitCode}}')" 0
	wait_log "$name" got-term
	pid_alive "$pid" && { echo "pid $pid still alive after stop" >&2; false; }

	run dk rm "$name"
	assert_status 0
	[ -z "$(ls -A "$(dk_state_root)" 2>/dev/null)" ]
}

@test "docker kill -s USR1 / -s TERM, docker rm -f of a running container" {
	local name=e2e-kill pid
	dk_run_detached "$name"
	run dk kill -s USR1 "$name"
	assert_status 0
	wait_log "$name" got-usr1
	assert_equal "$(dk_inspect "$name" '{{.State.Status}}')" running

	run dk kill -s TERM "$name"
	assert_status 0
	run dk wait "$name"
	assert_status 0
	assert_equal "$output" 0

	dk_run_detached e2e-rmf
	pid=$(dk_inspect e2e-rmf '{{.State.Pid}}')
	run dk rm -f e2e-rmf
	assert_status 0
	pid_alive "$pid" && { echo "pid $pid still alive after rm -f" >&2; false; }
	run dk ps -aq --filter name=e2e-rmf
	assert_equal "$output" ""
}

@test "docker pause / unpause" {
	local name=e2e-pause pid
	dk_run_detached "$name"
	pid=$(dk_inspect "$name" '{{.State.Pid}}')

	run dk pause "$name"
	assert_status 0
	assert_equal "$(dk_inspect "$name" '{{.State.Status}}')" paused
	assert_equal "$(e2e_freezer_state "$pid")" FROZEN

	run dk unpause "$name"
	assert_status 0
	assert_equal "$(dk_inspect "$name" '{{.State.Status}}')" running
	assert_equal "$(e2e_freezer_state "$pid")" THAWED
	run dk exec "$name" echo alive after unpause
	assert_status 0
	assert_line_equal "alive after unpause"

	# a paused container removed with rm -f: thawed and killed, nothing left
	run dk pause "$name"
	assert_status 0
	run dk rm -f "$name"
	assert_status 0
	pid_alive "$pid" && { echo "pid $pid still alive after rm -f" >&2; false; }
	run dk ps -aq
	assert_equal "$output" ""
}

@test "docker restart, docker exec -i -u -w -e, docker run -i" {
	local name=e2e-restart pid
	dk_run_detached "$name"
	pid=$(dk_inspect "$name" '{{.State.Pid}}')
	run dk restart -t 10 "$name"
	assert_status 0
	wait_dk_status "$name" running
	[ "$(dk_inspect "$name" '{{.State.Pid}}')" != "$pid" ]
	pid_alive "$pid" && { echo "old pid $pid still alive after restart" >&2; false; }

	run bash -c "echo from-stdin | '$E2E_DIR/bin/dk' exec -i -u 1000:1000 -w /tmp -e E2E_VAR=set '$name' sh -c 'cat; id -u; pwd; echo \$E2E_VAR'"
	assert_status 0
	assert_line_equal from-stdin
	assert_line_equal 1000
	assert_line_equal /tmp
	assert_line_equal set

	run bash -c "echo piped | '$E2E_DIR/bin/dk' run --rm -i --network none '$IMAGE' cat"
	assert_status 0
	assert_equal "$output" piped
}

@test "docker run --init --shm-size --security-opt seccomp=unconfined" {
	run dk_run --init --shm-size 8m --security-opt seccomp=unconfined "$IMAGE" sh -c '
		tr "\0" " " </proc/1/cmdline; echo
		grep " /dev/shm " /proc/self/mounts
		grep "^Seccomp:" /proc/self/status'
	assert_status 0
	assert_match 'docker-init -- sh -c'
	assert_match '/dev/shm tmpfs [^ ]*size=8192k'
	assert_match 'Seccomp:[[:space:]]+0'
}

@test "docker run --memory 16m: a process over the limit is OOM-killed (State.OOMKilled)" {
	run dk run --name e2e-oom --network none --memory 16m --memory-swap 16m "$IMAGE" \
		sh -c 'head -c 200000000 /dev/zero | tail'
	assert_status 137
	# dockerd sets OOMKilled when containerd's OOM event reaches it, which
	# may come after the exit event (on a loaded machine): waited for.
	wait_until 30 eval '[ "$(dk_inspect e2e-oom "{{.State.OOMKilled}}")" = true ]'
}

@test "docker stats --no-stream: memory and pids of a running container" {
	local name=e2e-stats
	dk_run_detached "$name"
	run dk stats --no-stream --format '{{.Name}} pids={{.PIDs}} mem={{.MemUsage}}' "$name"
	assert_status 0
	assert_match "^$name pids=[1-9][0-9]* mem=[0-9.]+[KMG]i?B / "
}

@test "docker run --memory 64m --pids-limit 20 --cpus 0.5 --cpu-shares 512: the cgroup files inside" {
	run dk_run --memory 64m --pids-limit 20 --cpus 0.5 --cpu-shares 512 "$IMAGE" sh -c '
		echo "mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"
		echo "swap=$(cat /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes 2>/dev/null || echo none)"
		echo "pids=$(cat /sys/fs/cgroup/pids/pids.max)"
		echo "quota=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) period=$(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)"
		echo "shares=$(cat /sys/fs/cgroup/cpu/cpu.shares)"'
	assert_status 0
	assert_line_equal "mem=67108864"
	assert_line_equal "pids=20"
	assert_line_equal "quota=50000 period=100000"
	assert_line_equal "shares=512"
	# dockerd asks for swap = 2 x memory when --memory-swap is not given
	grep -qx 'swap=none' <<<"$output" || assert_line_equal "swap=134217728"
}

@test "docker run --pids-limit 20: a fork beyond the limit fails" {
	# (ash gives up at the first failed fork: in a subshell)
	run dk_run --pids-limit 20 "$IMAGE" sh -c '
		(i=0; while [ $i -lt 30 ]; do sleep 30 & i=$((i+1)); done; echo all-forked) 2>/dev/null || echo fork-refused
		echo "max=$(cat /sys/fs/cgroup/pids/pids.max)"'
	assert_status 0
	assert_line_equal "fork-refused"
	assert_line_equal "max=20"
}

@test "docker run --read-only --tmpfs /scratch:size=4m,mode=1777" {
	run dk_run --read-only --tmpfs /scratch:size=4m,mode=1777 "$IMAGE" sh -c '
		stat -c "mode=%a" /scratch
		stat -f -c "size=%b*%S" /scratch
		grep " /scratch " /proc/self/mounts | cut -d" " -f3
		touch /scratch/ok && echo scratch-writable
		touch /rootfile 2>/dev/null || echo root-read-only'
	assert_status 0
	assert_line_equal "mode=1777"
	assert_line_equal "tmpfs"
	assert_line_equal "scratch-writable"
	assert_line_equal "root-read-only"
	local size
	size=$(grep -o '^size=.*' <<<"$output")
	assert_equal "$((${size#size=}))" $((4 * 1024 * 1024))
}

@test "docker run --cap-drop ALL, --cap-drop ALL --cap-add NET_ADMIN,SYS_TIME" {
	run dk_run --cap-drop ALL "$IMAGE" grep -E '^Cap(Prm|Eff|Bnd):' /proc/self/status
	assert_status 0
	assert_line_equal "$(printf 'CapPrm:\t0000000000000000')"
	assert_line_equal "$(printf 'CapEff:\t0000000000000000')"
	assert_line_equal "$(printf 'CapBnd:\t0000000000000000')"

	# CAP_NET_ADMIN = 12, CAP_SYS_TIME = 25
	run dk_run --cap-drop ALL --cap-add NET_ADMIN --cap-add SYS_TIME "$IMAGE" grep -E '^Cap(Eff|Bnd):' /proc/self/status
	assert_status 0
	assert_line_equal "$(printf 'CapEff:\t0000000002001000')"
	assert_line_equal "$(printf 'CapBnd:\t0000000002001000')"
}

@test "docker run --security-opt no-new-privileges --user 1000:1000 --hostname" {
	run dk_run --security-opt no-new-privileges --user 1000:1000 --hostname e2e-host "$IMAGE" sh -c '
		grep "^NoNewPrivs:" /proc/self/status; id; hostname'
	assert_status 0
	assert_line_equal "$(printf 'NoNewPrivs:\t1')"
	assert_match 'uid=1000 gid=1000'
	assert_line_equal "e2e-host"

	run dk_run "$IMAGE" grep "^NoNewPrivs:" /proc/self/status
	assert_line_equal "$(printf 'NoNewPrivs:\t0')"
}

@test "docker run --device /dev/zero:/dev/e2ezero: the node and its cgroup rule" {
	# /dev/kmsg (1:11) is in no allow rule: made with mknod, it cannot be opened
	run dk_run --device /dev/zero:/dev/e2ezero "$IMAGE" sh -c '
		stat -c "%F %t:%T" /dev/e2ezero
		head -c 8 /dev/e2ezero | wc -c
		busybox mknod /tmp/kmsg c 1 11 && echo made
		cat /tmp/kmsg 2>&1 | head -n 1'
	assert_status 0
	assert_line_equal "character special file 1:5"
	assert_line_equal "8"
	assert_line_equal "made"
	assert_match "can't open '/tmp/kmsg': Operation not permitted"
}

@test "docker run --ulimit --sysctl --oom-score-adj" {
	run dk_run --ulimit nofile=512:1024 --ulimit nproc=300:400 \
		--sysctl kernel.shm_rmid_forced=1 --sysctl net.ipv4.ip_unprivileged_port_start=99 \
		--oom-score-adj 321 "$IMAGE" sh -c '
		echo "nofile=$(ulimit -Sn):$(ulimit -Hn)"
		echo "nproc=$(ulimit -Su):$(ulimit -Hu)"
		echo "shm_rmid_forced=$(cat /proc/sys/kernel/shm_rmid_forced)"
		echo "port_start=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)"
		echo "oom=$(cat /proc/self/oom_score_adj)"'
	assert_status 0
	assert_line_equal "nofile=512:1024"
	assert_line_equal "nproc=300:400"
	assert_line_equal "shm_rmid_forced=1"
	assert_line_equal "port_start=99"
	assert_line_equal "oom=321"
}

@test "docker run -v DIR:/rw -v DIR:/ro:ro" {
	echo from-host >"$E2E_DIR/vol-ro/file"
	run dk_run -v "$E2E_DIR/vol-rw:/rw" -v "$E2E_DIR/vol-ro:/ro:ro" "$IMAGE" sh -c '
		echo written >/rw/new && echo rw-ok
		cat /ro/file
		{ echo x >/ro/other; } 2>/dev/null || echo ro-refused'
	assert_status 0
	assert_line_equal rw-ok
	assert_line_equal from-host
	assert_line_equal ro-refused
	assert_equal "$(cat "$E2E_DIR/vol-rw/new")" written
	[ ! -e "$E2E_DIR/vol-ro/other" ]
}

@test "docker run -t, docker exec -t (under script): a tty inside, exit code propagates" {
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	run e2e_in_tty "$E2E_DIR/bin/dk" run --rm -t --network none "$IMAGE" \
		sh -c 'test -t 0 && test -t 1 && echo tty-ok; tty; exit 4'
	assert_status 4
	assert_line_equal "tty-ok"
	assert_match '/dev/pts/[0-9]+'

	dk_run_detached e2e-exec-tty
	run e2e_in_tty "$E2E_DIR/bin/dk" exec -t e2e-exec-tty sh -c 'test -t 1 && echo exec-tty-ok; tty; exit 5'
	assert_status 5
	assert_line_equal "exec-tty-ok"
	assert_match '/dev/pts/[0-9]+'
}

@test "docker update --memory --memory-swap --cpu-shares --pids-limit of a running container" {
	local name=e2e-update
	dk_run_detached "$name" --memory 64m --pids-limit 20 --cpu-shares 512
	run dk update --memory 96m --memory-swap 192m --cpu-shares 256 --pids-limit 30 "$name"
	assert_status 0
	run dk exec "$name" sh -c '
		echo "mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"
		echo "shares=$(cat /sys/fs/cgroup/cpu/cpu.shares)"
		echo "pids=$(cat /sys/fs/cgroup/pids/pids.max)"'
	assert_status 0
	assert_line_equal "mem=$((96 * 1024 * 1024))"
	assert_line_equal "shares=256"
	assert_line_equal "pids=30"
}

@test "docker run --network container:X --pid container:X: joins the other's namespaces" {
	local a=e2e-ns-a
	dk_run_detached "$a"
	run dk exec "$a" readlink /proc/self/ns/net
	local net=$output
	run dk run --rm --network "container:$a" --pid "container:$a" "$IMAGE" sh -c '
		readlink /proc/self/ns/net; cat /proc/1/cmdline | tr "\0" " "; echo'
	assert_status 0
	assert_line_equal "$net"
	assert_match 'sh -c trap "echo got-term'

}

@test "docker run: 20 containers in parallel" {
	local i pids=() rc=0
	for ((i = 0; i < 20; i++)); do
		dk_run --name "e2e-par-$i" "$IMAGE" sh -c "echo par-$i" >"$E2E_DIR/par-$i.out" 2>&1 &
		pids+=($!)
	done
	for ((i = 0; i < 20; i++)); do
		wait "${pids[$i]}" || { echo "container $i failed: $(cat "$E2E_DIR/par-$i.out")" >&2; rc=1; }
	done
	[ "$rc" = 0 ]
	for ((i = 0; i < 20; i++)); do
		grep -qx "par-$i" "$E2E_DIR/par-$i.out"
	done
}
