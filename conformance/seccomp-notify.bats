#!/usr/bin/env bats
# linux.seccomp SCMP_ACT_NOTIFY with listenerPath/listenerMetadata: the
# notify fd goes to a seccomp agent (conformance/seccomp-agent.py, runc's
# protocol: the container process state as JSON, the fd in SCM_RIGHTS),
# which answers the container's mkdir; for the init and for exec'd
# processes. Also: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, a listenerPath
# with no NOTIFY rule (ignored), startContainer hooks under the filter.
# runc 1.1 has all of it but WAIT_KILLABLE_RECV.

load helpers

AGENT="$BATS_TEST_DIRNAME/seccomp-agent.py"

# start_agent: the agent on $TESTDIR/agent.sock, logging to $TESTDIR/agent.log.
start_agent() {
	SOCK="$TESTDIR/agent.sock" LOG="$TESTDIR/agent.log"
	: >"$LOG"
	spawn_bg python3 "$AGENT" "$SOCK" "$LOG"
	wait_until 20 test -S "$SOCK"
}

# notify_profile METADATA [FLAGS-JSON]: mkdir/mkdirat go to the agent.
notify_profile() {
	update_config '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $sock, listenerMetadata: $meta,
		flags: $flags, syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY"}]}' \
		--arg sock "$SOCK" --arg meta "$1" --argjson flags "${2:-[]}"
}

# strace_rt OUT ARGS...: the runtime under `strace -f -e trace=seccomp -o OUT`.
strace_rt() {
	local out=$1
	shift
	(
		_close_fds
		exec strace -f -o "$out" -e trace=seccomp "$RUNTIME" --root "$ROOT" "$@"
	) </dev/null
}

# agent_message N: the Nth state message the agent received (1-based).
agent_message() {
	grep -v '"notified"' "$LOG" | sed -n "${1}p"
}

@test "seccomp notify: the agent gets the fd with the init's state and answers its mkdir" {
	start_agent
	notify_profile errno=72
	set_args sh -c 'mkdir /tmp/x 2>&1; echo rc=$?'
	id=$(unique_id)
	runtime run --bundle "$BUNDLE" "$id"
	assert_status 0
	assert_output_contains "Multihop attempted"
	assert_output_contains "rc=1"
	local m
	m=$(agent_message 1)
	assert_equal "$(jq -c .fds <<<"$m")" '["seccompFd"]'
	assert_equal "$(jq -r .receivedFds <<<"$m")" 1
	assert_equal "$(jq -r .metadata <<<"$m")" errno=72
	assert_equal "$(jq -r .state.id <<<"$m")" "$id"
	assert_equal "$(jq -r .state.status <<<"$m")" creating
	assert_equal "$(jq -r .state.bundle <<<"$m")" "$BUNDLE"
	assert_equal "$(jq -r '.pid == .state.pid' <<<"$m")" true
	grep -q '"notified"' "$LOG"
}

@test "seccomp notify: an exec'd process sends its own listener; the agent lets its mkdir run" {
	start_agent
	notify_profile continue
	set_args sleep 1000
	id=$(unique_id)
	create_and_start "$id"
	runtime exec "$id" sh -c 'mkdir /tmp/made && test -d /tmp/made && echo made'
	assert_status 0
	assert_output_contains made
	local m init
	init=$(container_pid "$id")
	m=$(agent_message 2)
	assert_equal "$(jq -r .state.status <<<"$m")" running
	assert_equal "$(jq -r .state.pid <<<"$m")" "$init"
	[ "$(jq -r .pid <<<"$m")" != "$init" ]
	assert_equal "$(jq -r .metadata <<<"$m")" continue
	grep -q '"notified"' "$LOG"
}

@test "seccomp notify: exec fails when the agent is gone; the container keeps running" {
	start_agent
	notify_profile continue
	set_args sleep 1000
	id=$(unique_id)
	create_and_start "$id"
	kill "$BG_PID"
	wait_until 20 bash -c "! kill -0 $BG_PID 2>/dev/null"
	rm -f "$SOCK"
	runtime exec "$id" sh -c 'echo ran'
	[ "$status" -ne 0 ]
	[[ "$output" != *ran* ]]
	assert_equal "$(container_status "$id")" running
	# only the init is left in the container
	assert_equal "$(pids_in_pidns "$(container_pid "$id")")" "$(container_pid "$id")"
}

@test "seccomp notify: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV with a listener" {
	if is_runc_before_1_2; then
		skip "runc 1.1 does not know SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"
	fi
	start_agent
	notify_profile errno=72 '["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]'
	set_args sh -c 'mkdir /tmp/x 2>&1; echo rc=$?'
	# the flag as the kernel gets it: strace shows the seccomp(2) call
	run strace_rt "$TESTDIR/strace.out" run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_output_contains "Multihop attempted"
	grep -q 'SECCOMP_SET_MODE_FILTER, .*SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV' "$TESTDIR/strace.out"
}

@test "seccomp notify: WAIT_KILLABLE_RECV without a NOTIFY rule is refused naming the flag" {
	skip_unless_apus "runc 1.1 does not know the flag; runc 1.2 fails at load with EINVAL"
	update_config '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", flags: ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]}'
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 1
	assert_output_contains "linux.seccomp.flags[0]"
	assert_root_empty
}

@test "seccomp notify: a listenerPath without any NOTIFY rule is accepted and ignored" {
	update_config '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $p, listenerMetadata: "m",
		syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO"}]}' --arg p "$TESTDIR/nobody-listens.sock"
	set_args sh -c 'mkdir /tmp/x 2>&1; echo rc=$?'
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_output_contains "rc=1"
}

@test "seccomp notify: no agent listening fails create, nothing left" {
	SOCK="$TESTDIR/nobody-listens.sock"
	notify_profile errno=72
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	[ "$status" -ne 0 ]
	# runc's words (its own test matches on them)
	assert_output_contains "failed to connect with seccomp agent"
	assert_root_empty
}

@test "seccomp: startContainer hooks run with the filter in place (with no_new_privs)" {
	update_config '.process.noNewPrivileges = true
		| .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 72}]}
		| .hooks.startContainer = [{path: "/bin/sh", args: ["sh", "-c", "mkdir /tmp/hookdir 2>/dev/null; echo $? >/tmp/hook.rc"]}]'
	set_args cat /tmp/hook.rc
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_equal "$output" 1
}

@test "seccomp notify: features lists SCMP_ACT_NOTIFY (and WAIT_KILLABLE_RECV as supported)" {
	run "$RUNTIME" features
	assert_status 0
	jq -e '.linux.seccomp.actions | index("SCMP_ACT_NOTIFY")' <<<"$output" >/dev/null
	if ! is_runc_before_1_2; then
		jq -e '.linux.seccomp.supportedFlags | index("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV")' <<<"$output" >/dev/null
	fi
}

# The process's own syscalls between loading the filter and the agent
# holding the listener (reading /etc/passwd for HOME, closing fds) must not
# be notified into the void: with a NOTIFY rule on them they would wait for ever.
_important_syscalls() {
	start_agent
	update_config '.process.noNewPrivileges = $nnp | .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $sock,
		listenerMetadata: "continue", syscalls: [{names: ["execve", "openat", "open", "read", "close"], action: "SCMP_ACT_NOTIFY"}]}' \
		--arg sock "$SOCK" --argjson nnp "$1"
	set_args sh -c 'cat /etc/hostname >/dev/null; echo ran'
	id=$(unique_id)
	run timeout 60 "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$id"
	assert_status 0
	assert_output_contains "ran"
	set_args sleep 1000
	run_detached "$id-exec"
	assert_status 0
	run timeout 60 "$RUNTIME" --root "$ROOT" exec "$id-exec" sh -c 'cat /etc/hostname >/dev/null; echo exec ran'
	assert_status 0
	assert_output_contains "exec ran"
}

@test "seccomp notify: execve, openat, read, close notified, no_new_privs false: run and exec do not hang" {
	_important_syscalls false
}

@test "seccomp notify: execve, openat, read, close notified, no_new_privs true: run and exec do not hang" {
	_important_syscalls true
}
