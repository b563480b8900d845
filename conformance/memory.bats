#!/usr/bin/env bats
# apus's own memory: fault-around off for its image (CApusShim/faultaround.c,
# issue #21). create, run and exec register apus's file mappings (but the
# hot functions) with a userfaultfd for asynchronous write-protect tracking,
# which makes the kernel map only the pages they touch. That descriptor acts
# on the memory of the apus process that made it: none may reach a
# container, whatever the caller passes (--preserve-fds over a gap) or
# whichever path made the process (direct clone, user-namespace stage,
# exec). It is never one of 0-2 either: apus opens /dev/null on any the
# caller closed before it opens anything (else a descriptor of its own
# would become a child's stdio: the userfaultfd, or a host directory that
# `restore` handed the restored container as stdin). And where a seccomp
# filter is in force apus does not try: the filter might kill. runc holds
# none: these run against it too.

load helpers

# uffd_count PID: the userfaultfds among PID's descriptors (as root, from
# the host).
uffd_count() {
	local n=0 fd
	for fd in /proc/"$1"/fd/*; do
		[ "$(readlink "$fd" 2>/dev/null)" = "anon_inode:[userfaultfd]" ] && n=$((n + 1))
	done
	echo "$n"
}

# in the container: the userfaultfds among its own and pid 1's descriptors
COUNT_IN_CONTAINER='n=0; for f in /proc/self/fd/* /proc/1/fd/*; do
	[ "$(readlink "$f" 2>/dev/null)" = "anon_inode:[userfaultfd]" ] && n=$((n + 1)); done; echo "uffd=$n"'

# _rt_with_gap ARGS...: the runtime with fds 0-2 and 5 open, 3 and 4 not:
# `--preserve-fds 3` then names two descriptors the caller does not have,
# the lowest free numbers apus's own would take.
_rt_with_gap() {
	(
		_close_fds
		exec 5</dev/null
		exec "$RUNTIME" --root "$ROOT" "$@"
	) </dev/null
}

@test "memory: no userfaultfd reaches the container: run, run --preserve-fds over a gap, exec" {
	set_args sh -c "$COUNT_IN_CONTAINER"
	id=$(unique_id)
	runtime run --bundle "$BUNDLE" "$id"
	assert_status 0
	assert_equal "$output" "uffd=0"

	id=$(unique_id)
	run _rt_with_gap run --preserve-fds 3 --bundle "$BUNDLE" "$id"
	assert_status 0
	assert_equal "$output" "uffd=0"

	set_args sleep 3600
	id=$(unique_id)
	run_detached "$id"
	assert_status 0
	run _rt_with_gap exec --preserve-fds 3 "$id" sh -c "$COUNT_IN_CONTAINER"
	assert_status 0
	assert_equal "$output" "uffd=0"
}

# The init is apus until start: it may hold one, its own (for its own
# image), never the parent's; the program it execs holds none.
assert_init_holds_at_most_its_own() {
	local id=$1 pid
	create_container "$id"
	assert_status 0
	pid=$(container_pid "$id")
	(($(uffd_count "$pid") <= 1)) || {
		ls -l /proc/"$pid"/fd >&2
		return 1
	}
	runtime start "$id"
	assert_status 0
	# (apus's start returns once the program runs; runc's holds none)
	assert_equal "$(uffd_count "$pid")" 0
}

@test "memory: the created init holds at most its own userfaultfd, none once started (direct clone)" {
	assert_init_holds_at_most_its_own "$(unique_id)"
}

@test "memory: the created init holds at most its own userfaultfd, none once started (user namespace stage)" {
	runtime_supports_ns user || skip "the runtime has no user namespaces"
	update_config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 200000, size: 65536}]'
	assert_init_holds_at_most_its_own "$(unique_id)"
}

# peak_rss ARGS...: the runtime's peak RSS in kB (the largest process of its
# tree, as `make bench` measures), the least of three runs.
peak_rss() {
	local best="" kb i
	for i in 1 2 3; do
		kb=$( (
			_close_fds
			exec /usr/bin/time -f %M "$@" 2>&1 >/dev/null
		) </dev/null | tail -n 1)
		[[ "$kb" =~ ^[0-9]+$ ]] || {
			echo "no RSS from /usr/bin/time: $kb" >&2
			return 1
		}
		if [ -z "$best" ] || ((kb < best)); then best=$kb; fi
	done
	echo "$best"
}

@test "memory: apus run's peak RSS with fault-around off is well below the kernel's default (APUS_FAULT_AROUND=on)" {
	runtime_is_apus || skip "apus's own image"
	[ -x /usr/bin/time ] || skip "no /usr/bin/time (make deps)"
	# does this kernel let apus do it (userfaultfd, WP_ASYNC: Linux 6.7)?
	id=$(unique_id)
	create_container "$id"
	assert_status 0
	[ "$(uffd_count "$(container_pid "$id")")" = 1 ] || skip "no asynchronous userfaultfd write-protect here"
	runtime delete -f "$id"

	set_args true
	local on off
	on=$(peak_rss env APUS_FAULT_AROUND=on "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$(unique_id)")
	off=$(peak_rss "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$(unique_id)")
	echo "peak RSS: fault-around on $on kB, off $off kB" >&2
	# measured: ~4.4 MB against ~2.3 (3.3 MB for crun)
	((off * 10 < on * 8))
}

# _rt_closed FD ARGS...: the runtime with the caller's descriptor FD (0, 1
# or 2) closed, bounded in time (a read of a userfaultfd blocks forever).
_rt_closed() {
	local fd=$1
	shift
	(
		_close_fds
		eval "exec $fd>&-"
		exec timeout 20 "$RUNTIME" --root "$ROOT" "$@"
	) </dev/null 2>&1
}

@test "memory: stdin or stdout closed by the caller: run and exec as a non-root user work, the container's stdio is no apus descriptor" {
	update_config '.process.user = {uid: 1000, gid: 1000}'
	# (the init gives its stdio to the container user: an fchown of a
	# userfaultfd fails, and on kernels before 6.15 would chown the one
	# anonymous inode every eventfd and userfaultfd on the host shares)
	set_args sh -c 'id -u >&2; for f in 0 1; do [ -d /proc/self/fd/$f ] && echo "fd $f: directory" >&2;
		case "$(readlink /proc/self/fd/$f)" in anon_inode:*) echo "fd $f: $(readlink /proc/self/fd/$f)" >&2;; esac; done; true'
	local fd id
	for fd in 0 1; do
		id=$(unique_id)
		run _rt_closed "$fd" run --bundle "$BUNDLE" "$id"
		assert_status 0
		assert_equal "$output" 1000
	done
	set_args sleep 3600
	id=$(unique_id)
	run_detached "$id"
	assert_status 0
	for fd in 0 1; do
		run _rt_closed "$fd" exec -u 1000:1000 "$id" sh -c '[ -d /proc/self/fd/0 ] && echo directory >&2; id -u >&2'
		assert_status 0
		assert_equal "$output" 1000
	done
}

@test "memory: update -r - with stdin closed fails at once, whatever the container is called" {
	echo run >>"$TESTDIR/ids"
	run _rt_closed 0 update -r - run
	[ "$status" -ne 124 ] # timeout: read(2) blocked
	[ "$status" -ne 0 ]
}

@test "memory: restore with stdin closed hands CRIU neither a userfaultfd nor a host directory as the restored stdio" {
	skip_unless_apus "apus's restore, up to CRIU's answer (a stand-in criu lists what it got)"
	local img="$TESTDIR/img" fake="$TESTDIR/fake-criu"
	mkdir "$img"
	# the checkpointed stdin was a pipe: restore passes its own fd 0 for it
	echo '["pipe:[1]","/dev/null","/dev/null"]' >"$img/descriptors.json"
	printf '#!/bin/sh\nfor f in /proc/$$/fd/*; do echo "${f##*/} $(readlink "$f")"; done >"%s"\nexit 1\n' "$TESTDIR/criu-fds" >"$fake"
	chmod +x "$fake"
	# an id that names a command: stage 0 must not take it for one
	echo run >>"$TESTDIR/ids"
	(
		_close_fds
		exec <&-
		exec "$RUNTIME" --root "$ROOT" --criu "$fake" restore --image-path "$img" --bundle "$BUNDLE" run
	) >/dev/null 2>&1 || true
	[ -s "$TESTDIR/criu-fds" ]
	if grep -E "userfaultfd| $img\$" "$TESTDIR/criu-fds"; then
		cat "$TESTDIR/criu-fds" >&2
		return 1
	fi
}

@test "memory: a seccomp filter that refuses or kills on userfaultfd (EPERM, ENOSYS, KILL) changes nothing" {
	set_args true
	local action id
	for action in EPERM ENOSYS KILL; do
		id=$(unique_id)
		run "$BATS_TEST_DIRNAME/deny-userfaultfd.py" "$action" "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$id" </dev/null
		assert_status 0
	done
}
