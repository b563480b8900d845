#!/usr/bin/env bats
# apus's own memory: fault-around off for its image (CApusShim/faultaround.c,
# issue #21). create, run and exec register apus's file mappings (but the
# hot functions) with a userfaultfd for asynchronous write-protect tracking,
# which makes the kernel map only the pages they touch. That descriptor acts
# on the memory of the apus process that made it: none may reach a
# container, whatever the caller passes (--preserve-fds over a gap) or
# whichever path made the process (direct clone, user-namespace stage,
# exec). runc holds none: these run against it too.

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
