#!/usr/bin/env bats
# checkpoint/restore through CRIU: a counting process continues after
# restore (also twice, with --leave-running, from a --pre-dump parent, under
# a new id). Needs a working CRIU (`make deps` builds one): CRIU_BIN, else
# `tools/criu.sh --find`; skipped with the reason otherwise.

load helpers

setup_file() {
	CRIU_BIN="${CRIU_BIN:-$("$BATS_TEST_DIRNAME/../tools/criu.sh" --find 2>/dev/null || true)}"
	export CRIU_BIN
}

setup() {
	# runc writes runc-criu-*.conf into TMPDIR and leaves them: keep them in TESTDIR.
	export TMPDIR="${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}"
	case $BATS_TEST_DESCRIPTION in
	*"(before CRIU)"*) ;;
	*) [ -n "$CRIU_BIN" ] || skip "no working CRIU (Debian 12's 3.17 fails on this kernel): run make deps, or set CRIU_BIN" ;;
	esac
	setup_bundle
	# The count goes to a file in the rootfs; stdio is the container's own
	# /dev/null (CRIU cannot dump fds of host files).
	update_config '.process.args = ["sh", "-c", "exec </dev/null >/dev/null 2>&1; i=0; while :; do i=$((i+1)); echo $i >/tmp/count; sleep 0.1; done"]
		| del(.linux.resources)'
	IMAGES="$TESTDIR/images"
}

teardown() {
	teardown_bundle
}

_criu_rt() {
	(
		_close_fds
		cd "$TESTDIR" || exit 1 # (runc leaves runc-criu-log-*.log in its cwd)
		exec "$RUNTIME" --root "$ROOT" --criu "$CRIU_BIN" "$@"
	) </dev/null
}

# count: the last count (0 before the first); a read racing the counter's
# truncate-and-write is read again.
count() {
	local c i
	for ((i = 0; i < 50; i++)); do
		c=$(cat "$ROOTFS/tmp/count" 2>/dev/null) || { echo 0; return; }
		[[ "$c" =~ ^[0-9]+$ ]] && { echo "$c"; return; }
		sleep 0.01
	done
	echo 0
}
count_above() { [ "$(count)" -gt "$1" ]; }

# start_counter ID: a running container whose count has started.
start_counter() {
	run_detached "$1"
	assert_status 0
	wait_until 20 count_above 2
}

# restore_continues ID [FLAGS...]: restore, and the count goes on from where it was.
restore_continues() {
	local before
	before=$(count)
	restore "$@"
	wait_until 20 count_above $((before + 2))
}

# checkpoint ID [FLAGS...]: with CRIU's log shown on failure.
checkpoint() {
	local id=$1
	shift
	run _criu_rt checkpoint --image-path "$IMAGES" --work-path "$TESTDIR/work" "$@" "$id"
	if [ "$status" -ne 0 ]; then
		echo "checkpoint failed: $output" >&2
		tail -n 20 "$TESTDIR/work/"*dump.log >&2 2>/dev/null
		return 1
	fi
}

restore() {
	local id=$1
	shift
	run _criu_rt restore -d --bundle "$BUNDLE" --image-path "$IMAGES" --work-path "$TESTDIR/work" "$@" "$id"
	if [ "$status" -ne 0 ]; then
		echo "restore failed: $output" >&2
		tail -n 20 "$TESTDIR/work/restore.log" >&2 2>/dev/null
		return 1
	fi
}

@test "checkpoint: a counting process continues after restore" {
	local id before
	id=$(unique_id)
	start_counter "$id"
	checkpoint "$id"
	# Without --leave-running the container is gone.
	runtime state "$id"
	[ "$status" -ne 0 ]
	before=$(count)
	sleep 0.5
	assert_equal "$(count)" "$before"
	restore "$id"
	assert_equal "$(container_status "$id")" running
	wait_until 20 count_above $((before + 2))
	# It continued from where it was, not from 1.
	[ "$(count)" -gt "$before" ]
	runtime delete --force "$id"
	assert_status 0
}

@test "checkpoint: twice in a row" {
	local id before
	id=$(unique_id)
	start_counter "$id"
	checkpoint "$id"
	restore "$id"
	wait_until 20 count_above $(($(count) + 2))
	rm -rf "$IMAGES" "$TESTDIR/work"
	checkpoint "$id"
	restore_continues "$id"
	runtime delete --force "$id"
	assert_status 0
}

@test "checkpoint: --leave-running keeps the container running" {
	local id
	id=$(unique_id)
	start_counter "$id"
	checkpoint "$id" --leave-running
	assert_equal "$(container_status "$id")" running
	wait_until 20 count_above $(($(count) + 2))
	runtime delete --force "$id"
	assert_status 0
}

@test "checkpoint: --pre-dump, then a dump with --parent-path, restores" {
	local id before
	id=$(unique_id)
	start_counter "$id"
	run _criu_rt checkpoint --pre-dump --image-path "$TESTDIR/parent" --work-path "$TESTDIR/work" "$id"
	if ! "$CRIU_BIN" check --no-default-config --feature mem_dirty_track >/dev/null 2>&1; then
		# This kernel has no soft-dirty tracking: refused up front, the container untouched.
		[ "$status" -ne 0 ]
		assert_output_contains "CRIU is missing features"
		assert_equal "$(container_status "$id")" running
		runtime delete --force "$id"
		skip "pre-dump refused as it must be: CRIU reports no memory dirty tracking on this kernel (CONFIG_MEM_SOFT_DIRTY)"
	fi
	assert_status 0
	assert_equal "$(container_status "$id")" running
	checkpoint "$id" --parent-path ../parent
	restore_continues "$id"
	runtime delete --force "$id"
	assert_status 0
}

@test "checkpoint: the org.criu.config annotation names CRIU's configuration file for dump and restore" {
	local id
	id=$(unique_id)
	echo "log-file=from-config.log" >"$TESTDIR/criu.conf"
	update_config '.annotations += {"org.criu.config": $f}' --arg f "$TESTDIR/criu.conf"
	start_counter "$id"
	checkpoint "$id"
	# The file's log-file overrides the request's dump.log.
	[ -s "$TESTDIR/work/from-config.log" ]
	[ ! -e "$TESTDIR/work/dump.log" ]
	grep -q "Dumping finished successfully" "$TESTDIR/work/from-config.log"
	restore_continues "$id"
	grep -q "Restore finished successfully" "$TESTDIR/work/from-config.log"
	[ ! -e "$TESTDIR/work/restore.log" ]
	runtime delete --force "$id"
	assert_status 0
}

@test "checkpoint: a bind whose destination is a symlink in the rootfs (mounted where it leads) is dumped and restored" {
	local id
	id=$(unique_id)
	mkdir -p "$ROOTFS/real/conf" "$TESTDIR/confsrc"
	echo from-host >"$TESTDIR/confsrc/file"
	ln -s /real/conf "$ROOTFS/conf"
	update_config '.mounts += [{source: $s, destination: "/conf", options: ["bind"]}]' --arg s "$TESTDIR/confsrc"
	start_counter "$id"
	checkpoint "$id"
	restore_continues "$id"
	assert_equal "$(cat "/proc/$(container_pid "$id")/root/real/conf/file")" from-host
	runtime delete --force "$id"
	assert_status 0
}

@test "checkpoint: a bind nested in another bind: restore makes its mount point in the outer source again (runc's prepareCriuRestoreMounts)" {
	local id
	id=$(unique_id)
	mkdir -p "$TESTDIR/outer" "$TESTDIR/inner"
	echo inner >"$TESTDIR/inner/file"
	update_config '.mounts += [{type: "bind", source: $o, destination: "/test", options: ["rw", "bind"]},
		{type: "bind", source: $i, destination: "/test/for/nested", options: ["rw", "bind"]}]' \
		--arg o "$TESTDIR/outer" --arg i "$TESTDIR/inner"
	start_counter "$id"
	checkpoint "$id"
	# The mount points made at run inside the outer source are gone (as in runc's test).
	rm -rf "${TESTDIR:?}/outer/"*
	restore_continues "$id"
	assert_equal "$(cat "/proc/$(container_pid "$id")/root/test/for/nested/file")" inner
	runtime delete --force "$id"
	assert_status 0
}

@test "checkpoint: restored under a new id" {
	local id new before
	id=$(unique_id)
	new=$(unique_id)
	start_counter "$id"
	checkpoint "$id"
	before=$(count)
	restore "$new"
	assert_equal "$(container_status "$new")" running
	runtime state "$id"
	[ "$status" -ne 0 ]
	wait_until 20 count_above $((before + 2))
	runtime delete --force "$new"
	assert_status 0
}

@test "checkpoint: restore in the foreground waits for the container, exits with its status and deletes it" {
	local id before restorer rc=0
	cd "$TESTDIR" # (runc leaves runc-criu-log-*.log in its cwd)
	id=$(unique_id)
	start_counter "$id"
	checkpoint "$id"
	before=$(count)
	spawn_bg "$RUNTIME" --root "$ROOT" --criu "$CRIU_BIN" restore --bundle "$BUNDLE" \
		--image-path "$IMAGES" --work-path "$TESTDIR/work" "$id"
	restorer=$BG_PID
	wait_until 20 count_above $((before + 2))
	assert_equal "$(container_status "$id")" running
	runtime kill "$id" KILL
	assert_status 0
	wait "$restorer" || rc=$?
	assert_equal "$rc" 137
	runtime state "$id"
	[ "$status" -ne 0 ]
}

@test "checkpoint: stdout on a pipe is reconnected to restore's own stdout (inherit_fd)" {
	local id before
	cd "$TESTDIR" # (runc leaves runc-criu-log-*.log in its cwd)
	id=$(unique_id)
	update_config '.process.args = ["sh", "-c", "exec </dev/null 2>/dev/null; i=0; while :; do i=$((i+1)); echo $i >/tmp/count; echo line$i; sleep 0.1; done"]'
	spawn_bg sh -c '"$0" --root "$1" run -d --bundle "$2" "$3" | cat >"$4"' "$RUNTIME" "$ROOT" "$BUNDLE" "$id" "$TESTDIR/before.out"
	wait_until 20 count_above 2
	grep -q '^line1$' "$TESTDIR/before.out"
	checkpoint "$id"
	before=$(count)
	spawn_bg sh -c '"$0" --root "$1" --criu "$2" restore -d --bundle "$3" --image-path "$4" --work-path "$5" "$6" | cat >"$7"' \
		"$RUNTIME" "$ROOT" "$CRIU_BIN" "$BUNDLE" "$IMAGES" "$TESTDIR/work" "$id" "$TESTDIR/after.out"
	wait_until 20 count_above $((before + 2))
	# The restored process writes into restore's pipe, continuing its count.
	wait_until 20 grep -q "^line$((before + 2))\$" "$TESTDIR/after.out"
	runtime delete --force "$id"
	assert_status 0
}

@test "checkpoint: a network namespace joined by path is joined again on restore" {
	local holder id before
	spawn_bg unshare -n sleep 3600
	holder=$BG_PID
	wait_until 10 sh -c "[ \"\$(readlink /proc/$holder/ns/net)\" != \"\$(readlink /proc/self/ns/net)\" ]"
	update_config '.linux.namespaces |= map(if .type == "network" then .path = $p else . end)' --arg p "/proc/$holder/ns/net"
	id=$(unique_id)
	start_counter "$id"
	checkpoint "$id"
	restore_continues "$id"
	assert_equal "$(readlink "/proc/$(container_pid "$id")/ns/net")" "$(readlink "/proc/$holder/ns/net")"
	runtime delete --force "$id"
	assert_status 0
}

@test "checkpoint: CRIU's own error reaches the user, with its log" {
	local id
	id=$(unique_id)
	# The host's stdio files cannot be dumped: CRIU fails.
	set_args sleep 3600
	run_detached "$id"
	assert_status 0
	run _criu_rt checkpoint --image-path "$IMAGES" --work-path "$TESTDIR/work" "$id"
	[ "$status" -ne 0 ]
	assert_output_contains "criu failed"
	assert_output_contains "$TESTDIR/work/dump.log"
	[ -s "$TESTDIR/work/dump.log" ]
	runtime delete --force "$id"
	assert_status 0
}

# add_hooks LOG: every kind of hook, each appending "NAME NETNS STATE" to LOG
# (the net namespace of the pid the state names).
add_hooks() {
	cat >"$TESTDIR/hook.sh" <<'EOF2'
#!/bin/sh
state=$(cat)
pid=$(echo "$state" | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
printf '%s %s %s\n' "$1" "$(readlink "/proc/$pid/ns/net")" "$state" >>"$2"
[ "$1" != "$3" ]
EOF2
	chmod 755 "$TESTDIR/hook.sh"
	local h
	for h in prestart createRuntime createContainer poststart poststop; do
		update_config '.hooks[$h] += [{path: $p, args: ["hook.sh", $h, $l, $f]}]' \
			--arg h "$h" --arg p "$TESTDIR/hook.sh" --arg l "$1" --arg f "${2:-}"
	done
	update_config '.hooks.startContainer += [{path: "/bin/sh", args: ["sh", "-c", "echo startContainer >>/tmp/hooks.log"]}]'
}

@test "checkpoint: restore runs prestart and createRuntime once the namespaces exist (as runc: status stopped, the new pid), poststop at delete" {
	local id pid log=$TESTDIR/hooks.log
	id=$(unique_id)
	start_counter "$id"
	checkpoint "$id"
	# The hooks come with the bundle restore reads (none ran at run).
	add_hooks "$log"
	restore "$id"
	pid=$(container_pid "$id")
	assert_equal "$(cut -d' ' -f1 "$log" | tr '\n' ' ')" "prestart createRuntime "
	[ ! -e "$ROOTFS/tmp/hooks.log" ]
	# Each saw the restored init in its own network namespace, already there.
	while read -r name ns state; do
		assert_equal "$ns" "$(readlink "/proc/$pid/ns/net")"
		[ "$ns" != "$(readlink /proc/self/ns/net)" ]
		assert_equal "$(jq -r '.id + " " + .status + " " + (.pid | tostring)' <<<"$state")" "$id stopped $pid"
	done <"$log"
	runtime delete --force "$id"
	assert_status 0
	assert_equal "$(cut -d' ' -f1 "$log" | tr '\n' ' ')" "prestart createRuntime poststop "
}

@test "checkpoint: a failing prestart hook fails the restore and leaves nothing" {
	local id
	id=$(unique_id)
	start_counter "$id"
	checkpoint "$id"
	add_hooks "$TESTDIR/hooks.log" prestart
	run _criu_rt restore -d --bundle "$BUNDLE" --image-path "$IMAGES" --work-path "$TESTDIR/work" "$id"
	[ "$status" -ne 0 ]
	assert_output_contains "error running hook"
	runtime state "$id"
	[ "$status" -ne 0 ]
	# (runc also runs poststop while it removes what it made)
	assert_equal "$(grep -c '^prestart ' "$TESTDIR/hooks.log")" 1
	! grep -q '^createRuntime ' "$TESTDIR/hooks.log"
}

# lo_state PID: the loopback's flags and addresses in PID's network namespace.
lo_state() {
	nsenter -t "$1" -n ip -o link show dev lo | grep -o '<[^>]*>'
	nsenter -t "$1" -n ip -o addr show dev lo | awk '{print $4}'
}

@test "checkpoint: the network namespace is not dumped, restore makes it empty (runc always passes --empty-ns network)" {
	local id pid
	id=$(unique_id)
	start_counter "$id"
	pid=$(container_pid "$id")
	nsenter -t "$pid" -n ip link set lo up
	nsenter -t "$pid" -n ip addr add 10.123.45.6/32 dev lo
	checkpoint "$id"
	# No image of links or addresses: the namespace was not dumped.
	run ls "$IMAGES"
	[[ "$output" != *netdev-* && "$output" != *ifaddr-* ]]
	restore "$id"
	# A new namespace, empty: the loopback down, without addresses (the
	# caller sets the network up again, e.g. from a prestart hook).
	assert_equal "$(lo_state "$(container_pid "$id")")" "<LOOPBACK>"
	runtime delete --force "$id"
	assert_status 0
}

@test "checkpoint: --empty-ns takes network only" {
	local id before
	id=$(unique_id)
	start_counter "$id"
	run _criu_rt checkpoint --empty-ns ipc --image-path "$IMAGES" --work-path "$TESTDIR/work" "$id"
	[ "$status" -ne 0 ]
	assert_output_contains "not supported"
	assert_equal "$(container_status "$id")" running
	checkpoint "$id" --empty-ns network
	restore_continues "$id" --empty-ns network
	assert_equal "$(lo_state "$(container_pid "$id")")" "<LOOPBACK>"
	runtime delete --force "$id"
	assert_status 0
}

# counter_with_tty: the counter also prints each count on its terminal.
counter_with_tty() {
	update_config '.process.terminal = true
		| .process.args = ["sh", "-c", "i=0; while :; do i=$((i+1)); echo $i >/tmp/count; echo line$i; sleep 0.1; done"]'
}

# checkpointed_tty_counter ID: counter_with_tty run with its master on a
# console socket, then checkpointed.
checkpointed_tty_counter() {
	counter_with_tty
	console_receiver "$TESTDIR/console1.sock" "$TESTDIR/tty1"
	run_detached "$1" --console-socket "$TESTDIR/console1.sock"
	assert_status 0
	wait_until 20 grep -q '^line2' "$TESTDIR/tty1.part"
	checkpoint "$1"
}

@test "checkpoint: a terminal container is restored, its new pty master sent to --console-socket" {
	local id before
	id=$(unique_id)
	checkpointed_tty_counter "$id"
	before=$(count)
	# Detached, the terminal needs a console socket: refused before anything.
	run _criu_rt restore -d --bundle "$BUNDLE" --image-path "$IMAGES" --work-path "$TESTDIR/work" "$id"
	[ "$status" -ne 0 ]
	assert_output_contains "cannot allocate tty if"
	console_receiver "$TESTDIR/console2.sock" "$TESTDIR/tty2"
	restore "$id" --console-socket "$TESTDIR/console2.sock"
	assert_equal "$(container_status "$id")" running
	# The restored shell writes on the new pty, continuing its count.
	wait_until 20 grep -q "^line$((before + 2))" "$TESTDIR/tty2.part"
	runtime delete --force "$id"
	assert_status 0
}

@test "checkpoint: a terminal container restored in the foreground: apus relays the new pty" {
	skip_unless_apus "runc 1.1's foreground relay needs a terminal of its own"
	local id before restorer rc=0
	id=$(unique_id)
	checkpointed_tty_counter "$id"
	before=$(count)
	spawn_bg sh -c 'cd "$0" && exec "$1" --root "$2" --criu "$3" restore --bundle "$4" --image-path "$5" --work-path "$0/work" "$6" >"$0/relay.out"' \
		"$TESTDIR" "$RUNTIME" "$ROOT" "$CRIU_BIN" "$BUNDLE" "$IMAGES" "$id"
	restorer=$BG_PID
	wait_until 20 grep -q "^line$((before + 2))" "$TESTDIR/relay.out"
	runtime kill "$id" KILL
	assert_status 0
	wait "$restorer" || rc=$?
	assert_equal "$rc" 137
}

@test "checkpoint: restore refuses --console-socket for a container without a terminal" {
	local id
	id=$(unique_id)
	start_counter "$id"
	checkpoint "$id"
	run _criu_rt restore -d --console-socket "$TESTDIR/none.sock" --bundle "$BUNDLE" --image-path "$IMAGES" --work-path "$TESTDIR/work" "$id"
	[ "$status" -ne 0 ]
	assert_output_contains "cannot use console socket"
	runtime state "$id"
	[ "$status" -ne 0 ]
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# status_byte FIFO: the first byte written into FIFO, in hex ("" at EOF), within 60 s.
status_byte() {
	timeout 60 od -An -tx1 -N1 "$1" | tr -d ' \n'
}

@test "checkpoint: --page-server sends the pages to CRIU's page server; restore from them" {
	local id port ps before
	id=$(unique_id)
	start_counter "$id"
	port=$(free_port)
	mkdir -p "$TESTDIR/ps" "$IMAGES"
	mkfifo "$TESTDIR/ps.ready"
	spawn_bg sh -c 'exec "$0" page-server --no-default-config --images-dir "$1" --address 127.0.0.1 --port "$2" \
		-o "$1/page-server.log" --status-fd 3 3>"$3"' "$CRIU_BIN" "$TESTDIR/ps" "$port" "$TESTDIR/ps.ready"
	ps=$BG_PID
	assert_equal "$(status_byte "$TESTDIR/ps.ready")" 00
	checkpoint "$id" --page-server "127.0.0.1:$port"
	# The page server ends with the dump; the memory is there, not in the images.
	wait "$ps"
	ls "$TESTDIR/ps"/pages-*.img "$TESTDIR/ps"/pagemap-*.img
	! ls "$IMAGES"/pages-*.img
	mv "$TESTDIR/ps"/*.img "$IMAGES/"
	restore_continues "$id"
	runtime delete --force "$id"
	assert_status 0
}

# The whole lazy migration (CRIU's lazy-pages daemon, restore --lazy-pages)
# cannot be shown here: CRIU 4.1.1's page transfer fails on this kernel for
# runc and apus alike ("page-pipe: splice: -1: Bad file descriptor"), and
# the failed restore then waits for ever. What the runtime does is shown:
# the feature check, the dump serving its pages, \0 on --status-fd.
@test "checkpoint: --lazy-pages with --page-server: \\0 on --status-fd once the pages are served" {
	"$CRIU_BIN" check --no-default-config --feature uffd-noncoop >/dev/null 2>&1 ||
		skip "this kernel has no non-cooperative userfaultfd (lazy pages)"
	local id port cpt criu rc=0
	id=$(unique_id)
	start_counter "$id"
	port=$(free_port)
	mkdir -p "$IMAGES"
	mkfifo "$TESTDIR/dump.ready"
	(
		_close_fds
		cd "$TESTDIR" || exit 1
		exec "$RUNTIME" --root "$ROOT" --criu "$CRIU_BIN" checkpoint --lazy-pages --page-server "127.0.0.1:$port" \
			--status-fd 3 --image-path "$IMAGES" --work-path "$TESTDIR/work" "$id" 3>"$TESTDIR/dump.ready"
	) </dev/null >"$TESTDIR/checkpoint.out" 2>&1 &
	cpt=$!
	echo "$cpt" >>"$TESTDIR/bg.pids"
	# \0 once the dump serves its pages: the process tree is in the images by then.
	assert_equal "$(status_byte "$TESTDIR/dump.ready")" 00 || { cat "$TESTDIR/checkpoint.out"; false; }
	[ -e "$IMAGES/inventory.img" ]
	# The dump now waits for CRIU's lazy-pages daemon to fetch the pages. Ended
	# here: the checkpoint fails and the container stays.
	criu=$(pgrep -P "$cpt" -x criu)
	kill -KILL $criu
	wait "$cpt" || rc=$?
	[ "$rc" -ne 0 ]
	runtime delete --force "$id"
	assert_status 0
}

@test "checkpoint: --status-fd must be a writable descriptor" {
	local id
	id=$(unique_id)
	start_counter "$id"
	run _criu_rt checkpoint --lazy-pages --status-fd 99 --image-path "$IMAGES" --work-path "$TESTDIR/work" "$id"
	[ "$status" -ne 0 ]
	assert_output_contains "invalid --status-fd argument 99"
	run sh -c 'exec "$0" --root "$1" --criu "$2" checkpoint --lazy-pages --status-fd 3 --image-path "$3" "$4" 3<"$5"' \
		"$RUNTIME" "$ROOT" "$CRIU_BIN" "$IMAGES" "$id" "$BUNDLE/config.json"
	[ "$status" -ne 0 ]
	assert_output_contains "invalid --status-fd argument 3: not writable"
	assert_equal "$(container_status "$id")" running
	runtime delete --force "$id"
	assert_status 0
}

@test "checkpoint: --status-fd without --lazy-pages is refused (runc ignores it)" {
	skip_unless_apus "runc 1.1 ignores --status-fd without --lazy-pages"
	local id
	id=$(unique_id)
	start_counter "$id"
	run _criu_rt checkpoint --status-fd 2 --image-path "$IMAGES" --work-path "$TESTDIR/work" "$id"
	[ "$status" -ne 0 ]
	assert_output_contains "--status-fd is only used with --lazy-pages"
	assert_equal "$(container_status "$id")" running
	runtime delete --force "$id"
	assert_status 0
}

# lo_up_hook: a prestart hook bringing the loopback up (at run, and again at
# restore, whose network namespace is new and empty).
lo_up_hook() {
	cat >"$TESTDIR/lo-up.sh" <<'EOF2'
#!/bin/sh
pid=$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
exec nsenter -t "$pid" -n ip link set lo up
EOF2
	chmod 755 "$TESTDIR/lo-up.sh"
	update_config '.hooks.prestart += [{path: $p}]' --arg p "$TESTDIR/lo-up.sh"
}

received() { wc -l <"$ROOTFS/tmp/received" 2>/dev/null || echo 0; }
received_above() { [ "$(received)" -gt "$1" ]; }

@test "checkpoint: --tcp-established dumps and restores an open TCP connection" {
	local id n
	id=$(unique_id)
	ln -sf busybox "$ROOTFS/bin/nc"
	lo_up_hook
	# A server that takes one connection (its stdin kept open: busybox nc
	# hangs up at EOF), and a client sending the count over it (retried
	# until the server listens).
	update_config '.process.args = ["sh", "-c", "exec </dev/null >/dev/null 2>&1; sleep 100000 | nc -l -p 5000 >/tmp/received & while :; do i=0; while :; do i=$((i+1)); echo $i >/tmp/count; echo $i; sleep 0.1; done | nc 127.0.0.1 5000; sleep 0.1; done"]'
	run_detached "$id"
	assert_status 0
	wait_until 20 received_above 2
	# Without the flag CRIU refuses the connected socket; the container goes on.
	run _criu_rt checkpoint --image-path "$IMAGES" --work-path "$TESTDIR/work" "$id"
	[ "$status" -ne 0 ]
	grep -q -- "--tcp-established" "$TESTDIR/work/dump.log"
	assert_equal "$(container_status "$id")" running
	rm -rf "$IMAGES" "$TESTDIR/work"
	run _criu_rt checkpoint --tcp-established --image-path "$IMAGES" --work-path "$TESTDIR/work" "$id"
	if [ "$status" -ne 0 ] && grep -q "Can't get 1:16 opt: Operation not supported" "$TESTDIR/work/dump.log"; then
		# Kernels >= 6.16 refuse SO_PASSCRED on TCP sockets, which CRIU 4.1.1 reads.
		assert_equal "$(container_status "$id")" running
		runtime delete --force "$id"
		skip "this CRIU cannot dump TCP sockets on this kernel (getsockopt(SO_PASSCRED): EOPNOTSUPP), for runc and apus alike"
	fi
	assert_status 0
	n=$(received)
	restore "$id" --tcp-established
	# The same connection carries on (the server takes no second one).
	wait_until 20 received_above $((n + 2))
	runtime delete --force "$id"
	assert_status 0
}

# allocated FILES...: the disk blocks (KiB) the files hold.
allocated() { du -k -c "$@" | tail -n1 | cut -f1; }

@test "checkpoint: restore --auto-dedup punches out the memory images it restored" {
	local id full
	id=$(unique_id)
	start_counter "$id"
	checkpoint "$id"
	full=$(allocated "$IMAGES"/pages-*.img)
	[ "$full" -gt 0 ]
	restore_continues "$id" --auto-dedup
	[ "$(allocated "$IMAGES"/pages-*.img)" -lt "$full" ]
	runtime delete --force "$id"
	assert_status 0
}

@test "checkpoint: --manage-cgroups-mode: full dumps and restores, an unknown mode is refused" {
	local id
	id=$(unique_id)
	start_counter "$id"
	run _criu_rt checkpoint --manage-cgroups-mode bogus --image-path "$IMAGES" --work-path "$TESTDIR/work" "$id"
	[ "$status" -ne 0 ]
	[[ "${output,,}" == *"invalid manage cgroups mode"* || "${output,,}" == *"invalid manage-cgroups-mode"* ]]
	assert_equal "$(container_status "$id")" running
	checkpoint "$id" --manage-cgroups-mode full
	restore_continues "$id" --manage-cgroups-mode full
	runtime delete --force "$id"
	assert_status 0
}

@test "checkpoint: restore --manage-cgroups-mode strict wants cgroups CRIU makes itself: refused by CRIU" {
	is_runc_before_1_2 && skip "runc 1.1 ignores --manage-cgroups-mode on restore"
	local id
	id=$(unique_id)
	start_counter "$id"
	checkpoint "$id"
	run _criu_rt restore -d --manage-cgroups-mode strict --bundle "$BUNDLE" --image-path "$IMAGES" --work-path "$TESTDIR/work" "$id"
	[ "$status" -ne 0 ]
	assert_output_contains "criu failed"
	runtime state "$id"
	[ "$status" -ne 0 ]
}

# restore_refused ID FLAGS...: restore fails and leaves no container.
restore_refused() {
	local id=$1
	shift
	run _criu_rt restore -d --bundle "$BUNDLE" --image-path "$IMAGES" --work-path "$TESTDIR/work" "$@" "$id"
	[ "$status" -ne 0 ]
	local out=$output
	runtime state "$id"
	[ "$status" -ne 0 ]
	output=$out
}

@test "checkpoint: restore --lsm-profile goes to CRIU, whose refusal (no such LSM here, no TYPE:NAME) reaches the user; empty or none: restores" {
	[ -d /sys/kernel/security/apparmor ] && skip "the host has AppArmor: CRIU would apply the profile"
	local id
	id=$(unique_id)
	start_counter "$id"
	checkpoint "$id"
	# runc checks nothing of the value (CRIU >= 3.16 only): CRIU's lsm_check_opts refuses.
	local refusal
	for refusal in "apparmor:apus-test/apparmor LSM specified but apparmor not supported by kernel" \
		"apus-test/invalid argument apus-test for --lsm-profile"; do
		restore_refused "$id" --lsm-profile "${refusal%%/*}"
		assert_output_contains "criu failed"
		# apus quotes the log's errors; runc names the log.
		runtime_is_apus && assert_output_contains "${refusal#*/}"
		grep -q "${refusal#*/}" "$TESTDIR/work/restore.log"
	done
	# "none:" asks CRIU for no profile: restored.
	restore_continues "$id" --lsm-profile none:apus-test
	grep -q "Restore finished successfully" "$TESTDIR/work/restore.log"
	rm -rf "$IMAGES" "$TESTDIR/work"
	checkpoint "$id"
	restore_continues "$id" --lsm-profile ""
	runtime delete --force "$id"
	assert_status 0
}

@test "checkpoint: restore --lsm-mount-context without SELinux is refused before CRIU (CRIU would ignore it: no dumped mount has a context= to replace); empty restores" {
	grep -qw selinuxfs /proc/self/mountinfo && skip "the host has SELinux"
	local id ctx="system_u:object_r:container_file_t:s0:c1,c2"
	id=$(unique_id)
	start_counter "$id"
	checkpoint "$id"
	if runtime_is_runc; then
		# runc passes it; CRIU restores and changes no mount's context.
		restore_continues "$id" --lsm-mount-context "$ctx"
		grep -q "Restore finished successfully" "$TESTDIR/work/restore.log"
		! grep -q "context=" "$TESTDIR/work/restore.log"
		rm -rf "$IMAGES" "$TESTDIR/work"
		checkpoint "$id"
	else
		restore_refused "$id" --lsm-mount-context "$ctx"
		assert_output_contains "--lsm-mount-context"
		assert_output_contains "selinux is disabled or not supported"
		[ ! -e "$TESTDIR/work/restore.log" ]
	fi
	restore_continues "$id" --lsm-mount-context ""
	runtime delete --force "$id"
	assert_status 0
}

# lock_held FILE: a flock on FILE is listed in /proc/locks.
lock_held() { grep -q "FLOCK .*:$(stat -c %i "$1") " /proc/locks; }

@test "checkpoint: --file-locks dumps and restores a held flock" {
	command -v gcc >/dev/null || skip "no gcc to build the lock holder"
	local id
	id=$(unique_id)
	# lockexec FILE PROG ARGS...: takes an exclusive flock on FILE, then execs PROG (the lock stays).
	cat >"$TESTDIR/lockexec.c" <<'EOF2'
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
int main(int argc, char **argv) {
    int fd = open(argv[1], O_RDWR | O_CREAT, 0644);
    if (argc < 3 || fd < 0 || flock(fd, LOCK_EX) < 0) return 1;
    execv(argv[2], argv + 2);
    return 1;
}
EOF2
	gcc -static -O2 -o "$ROOTFS/bin/lockexec" "$TESTDIR/lockexec.c" || skip "gcc cannot link statically here"
	update_config '.process.args = ["/bin/lockexec", "/tmp/lock", "/bin/sh"] + .process.args[1:]'
	start_counter "$id"
	lock_held "$ROOTFS/tmp/lock"
	# Without the flag CRIU refuses the lock; the container goes on.
	run _criu_rt checkpoint --image-path "$IMAGES" --work-path "$TESTDIR/work" "$id"
	[ "$status" -ne 0 ]
	grep -q -- "--file-locks" "$TESTDIR/work/dump.log"
	assert_equal "$(container_status "$id")" running
	rm -rf "$IMAGES" "$TESTDIR/work"
	checkpoint "$id" --file-locks
	! lock_held "$ROOTFS/tmp/lock"
	restore_continues "$id" --file-locks
	lock_held "$ROOTFS/tmp/lock"
	runtime delete --force "$id"
	assert_status 0
}

# dgram_counter NAME: a host process bound to the datagram socket
# $TESTDIR/sock/NAME (appending what it gets to $TESTDIR/host.received), and
# a counter whose fd 3 is a socket connected to it, sending each count
# there. CRIU finds the peer only in the dumped network namespace
# (sock_diag): the host process has a namespace of its own, which the
# container joins. Restore connects again to the peer's name as bound on the
# host, inside the container: the directory is bound at the same path.
# Skips without gcc.
dgram_counter() {
	command -v gcc >/dev/null || skip "no gcc to build the socket holder"
	# dgramexec PATH PROG ARGS...: fd 3 a datagram socket connected to PATH, then execs PROG.
	cat >"$TESTDIR/dgramexec.c" <<'EOF2'
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
int main(int argc, char **argv) {
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    if (argc < 3 || fd < 0 || strlen(argv[1]) >= sizeof(a.sun_path)) return 1;
    strcpy(a.sun_path, argv[1]);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || dup2(fd, 3) < 0) return 1;
    execv(argv[2], argv + 2);
    return 1;
}
EOF2
	gcc -static -O2 -o "$ROOTFS/bin/dgramexec" "$TESTDIR/dgramexec.c" || skip "gcc cannot link statically here"
	mkdir -p "$TESTDIR/sock"
	spawn_bg unshare -n python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "ab", 0) as f:
    while True:
        f.write(s.recv(64))' "$TESTDIR/sock/$1" "$TESTDIR/host.received"
	wait_until 20 test -S "$TESTDIR/sock/$1"
	update_config '.linux.namespaces |= map(if .type == "network" then .path = $p else . end)' --arg p "/proc/$BG_PID/ns/net"
	update_config '.mounts += [{type: "bind", source: $d, destination: $d, options: ["bind"]}]
		| .process.args = ["/bin/dgramexec", ($d + "/" + $s), "/bin/sh", "-c", "exec </dev/null >/dev/null 2>&1; i=0; while :; do i=$((i+1)); echo $i >/tmp/count; echo $i >&3; sleep 0.1; done"]' \
		--arg d "$TESTDIR/sock" --arg s "$1"
}

host_received() { wc -l <"$TESTDIR/host.received" 2>/dev/null || echo 0; }
host_received_above() { [ "$(host_received)" -gt "$1" ]; }

@test "checkpoint: --ext-unix-sk dumps and restores a datagram socket connected to a peer outside the container" {
	local id n
	id=$(unique_id)
	dgram_counter log.sock
	start_counter "$id"
	wait_until 20 host_received_above 2
	# Without the flag CRIU refuses the socket; the container goes on.
	run _criu_rt checkpoint --image-path "$IMAGES" --work-path "$TESTDIR/work" "$id"
	[ "$status" -ne 0 ]
	grep -q "External socket is used. Consider using --ext-unix-sk" "$TESTDIR/work/dump.log"
	assert_equal "$(container_status "$id")" running
	rm -rf "$IMAGES" "$TESTDIR/work"
	checkpoint "$id" --ext-unix-sk
	n=$(host_received)
	# (CRIU 4.1.1 checks the flag at dump only for a datagram peer; runc passes it to both.)
	restore_continues "$id" --ext-unix-sk
	# The restored socket is connected to the host's peer again, by its name.
	wait_until 20 host_received_above $((n + 2))
	runtime delete --force "$id"
	assert_status 0
}

# _rt_in_testdir ARGS: the runtime in TESTDIR, without --criu (none may be installed).
_rt_in_testdir() {
	(
		_close_fds
		cd "$TESTDIR" || exit 1
		exec "$RUNTIME" --root "$ROOT" "$@"
	) </dev/null
}

@test "checkpoint: a bad --parent-path is refused in runc's words before CRIU is asked, with --pre-dump too (before CRIU)" {
	local id
	id=$(unique_id)
	set_args sleep 3600
	run_detached "$id"
	assert_status 0
	mkdir -p "$IMAGES"
	touch "$IMAGES/file"
	local flags
	for flags in "" --pre-dump; do
		run _rt_in_testdir checkpoint $flags --parent-path "$TESTDIR/parent" --image-path "$IMAGES" --work-path "$TESTDIR/work" "$id"
		[ "$status" -ne 0 ]
		assert_output_contains "--parent-path must be relative"
		run _rt_in_testdir checkpoint $flags --parent-path ../missing --image-path "$IMAGES" --work-path "$TESTDIR/work" "$id"
		[ "$status" -ne 0 ]
		assert_output_contains "invalid --parent-path: stat "
		assert_output_contains "missing: no such file or directory"
		run _rt_in_testdir checkpoint $flags --parent-path file --image-path "$IMAGES" --work-path "$TESTDIR/work" "$id"
		[ "$status" -ne 0 ]
		assert_output_contains "invalid --parent-path"
		assert_output_contains "not a directory"
	done
	# nothing was dumped: the container still runs
	assert_equal "$(container_status "$id")" running
	[ ! -e "$TESTDIR/work/dump.log" ]
	runtime delete --force "$id"
	assert_status 0
}
