#!/usr/bin/env bats
# Hostile regression tests around the container process: host fds reaching
# the container through the cwd (CVE-2024-21626 class), sysctls written into
# the host's namespaces, stdio and pty ownership for non-root users, the
# /dev/console bind mount (CVE-2025-52565 class) and seccomp profiles that
# predate the syscalls the runtime itself uses (close_range).
#
# "Host secrets" are files under TESTDIR. Sysctls a test may change on the
# host are recorded first and restored in teardown.

load helpers

# ------------------------------------------------------------------ helpers

teardown() {
	sp_restore_sysctls
	teardown_bundle
}

# sp_secret: $TESTDIR/hostsecret/marker-<random> holding secret-<random>;
# sets MARKER (file name) and SECRET (content).
sp_secret() {
	local r
	r=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
	MARKER="marker-$r"
	SECRET="secret-$r"
	mkdir -p "$TESTDIR/hostsecret"
	echo "$SECRET" >"$TESTDIR/hostsecret/$MARKER"
}

# sp_assert_no_secret: neither the marker's name nor its content in $output.
sp_assert_no_secret() {
	if [[ "$output" == *"$MARKER"* || "$output" == *"$SECRET"* ]]; then
		echo "host secret visible to the container; output:" >&2
		echo "$output" >&2
		return 1
	fi
}

# sp_probe_cmd: a shell script looking for the host secret from the cwd: the
# cwd itself, its parent, and the host path reached by climbing with ".."
# (which works from any directory outside the container's root).
sp_probe_cmd() {
	local up="../../../../../../../../../../../../../../..${TESTDIR}/hostsecret"
	# (globs, not the marker's name: error messages must not echo it)
	echo "pwd; ls -a; cat ./marker-*; ls hostsecret; cat hostsecret/marker-*; cd ..; ls -a; cat ./marker-* hostsecret/marker-*; cat $up/marker-*; ls $up; true"
}

# _rt_hostfds ARGS...: the runtime (with --root, stdin /dev/null) with the
# caller's fds closed, then fds 3..9 opened on host directories.
_rt_hostfds() {
	(
		_close_fds
		exec 3<"$TESTDIR/hostsecret" 4</ 5<"$TESTDIR/hostsecret" 6</ 7</etc 8<"$TESTDIR" 9<"$TESTDIR/hostsecret"
		exec "$RUNTIME" --root "$ROOT" "$@"
	) </dev/null
}

# _rt_hostfds_to_files OUT ERR ARGS...: the same, stdout/stderr to files
# (for create / run -d: the container inherits them).
_rt_hostfds_to_files() {
	local out=$1 err=$2
	shift 2
	(
		_close_fds
		exec 3<"$TESTDIR/hostsecret" 4</ 5<"$TESTDIR/hostsecret" 6</ 7</etc 8<"$TESTDIR" 9<"$TESTDIR/hostsecret"
		exec "$RUNTIME" --root "$ROOT" "$@"
	) </dev/null >"$out" 2>"$err"
}

# sp_fds_of_ls [TEXT=$output]: fd numbers in `ls -l /proc/X/fd` listings,
# without the directory fd of ls itself (a dangling link, or /proc/N/fd).
sp_fds_of_ls() {
	awk '$1 ~ /^l/ { for (i = 2; i < NF; i++) if ($i == "->" && $(i + 1) !~ "^/proc/[0-9]+/fd$") print $(i - 1) }' <<<"${1-$output}" | sort -n | xargs
}

# sp_wait_execd PID COMM: wait until PID runs COMM (the container's init
# has exec'ed the process: the runtime's own fds are gone).
sp_wait_execd() {
	wait_until 10 grep -qx "$2" "/proc/$1/comm"
}

# sp_pid_gone PID: PID exited (gone or a zombie).
sp_pid_gone() { ! pid_alive "$1"; }

# sp_assert_no_host_dirs: no fd link in $output points into a host
# directory (TESTDIR, /etc or the host root as seen from outside).
sp_assert_no_host_dirs() {
	if grep -E -- "-> (/|/etc|$TESTDIR(/hostsecret)?)\$" <<<"$output"; then
		echo "a host directory fd reached the container; output:" >&2
		echo "$output" >&2
		return 1
	fi
}

# --- sysctls

# sp_save_sysctl NAME: remember the host's value of NAME (restored in teardown).
sp_save_sysctl() {
	local f="/proc/sys/${1//.//}"
	echo "$f=$(cat "$f")" >>"$TESTDIR/sysctl.saved"
}

sp_restore_sysctls() {
	[ -n "${TESTDIR:-}" ] && [ -f "$TESTDIR/sysctl.saved" ] || return 0
	local line f v
	while IFS= read -r line; do
		f=${line%%=*}
		v=${line#*=}
		[ "$(cat "$f")" = "$v" ] || echo "$v" >"$f"
	done <"$TESTDIR/sysctl.saved"
	return 0
}

sp_host_sysctl() { cat "/proc/sys/${1//.//}"; }

# sp_ns_join TYPE PATH: the namespace entry TYPE joins PATH (added if absent).
sp_ns_join() {
	update_config '.linux.namespaces = ([.linux.namespaces[] | select(.type != $t)] + [{type: $t, path: $p}])' \
		--arg t "$1" --arg p "$2"
}

# sp_ns_drop TYPE: no namespace entry of TYPE (the host's is shared).
sp_ns_drop() {
	update_config '.linux.namespaces |= map(select(.type != $t))' --arg t "$1"
}

# sp_sysctl NAME VALUE: linux.sysctl = {NAME: VALUE}.
sp_sysctl() {
	update_config '.linux.sysctl = {($n): $v}' --arg n "$1" --arg v "$2"
}

# sp_run_host_sysctl_unchanged NAME HOST-BEFORE: `run` the container;
# the runtime may refuse (nonzero) or run it, but the host's NAME must keep
# HOST-BEFORE either way.  Sets $status/$output.
sp_run_host_sysctl_unchanged() {
	local name=$1 before=$2
	set_args sh -c "cat /proc/sys/${name//.//}"
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	local after
	after=$(sp_host_sysctl "$name")
	if [ "$after" != "$before" ]; then
		echo "host $name changed: '$before' -> '$after' (runtime exit $status: $output)" >&2
		return 1
	fi
}

# --- terminal

sp_need_python() {
	command -v python3 >/dev/null || skip "python3 needed for the console socket receiver"
}

# sp_script CMD: CMD (a shell command line) under script(1), i.e. with a
# terminal on stdin/stdout, with no fds above 2.
sp_script() {
	(
		_close_fds
		exec script -qec "$1" /dev/null
	) </dev/null
}

# --- seccomp

SP_POST_434=(clone3 close_range openat2 pidfd_getfd faccessat2 process_madvise
	epoll_pwait2 mount_setattr quotactl_fd landlock_create_ruleset
	landlock_add_rule landlock_restrict_self memfd_secret process_mrelease
	futex_waitv set_mempolicy_home_node cachestat fchmodat2 map_shadow_stack
	futex_wake futex_wait futex_requeue statmount listmount lsm_get_self_attr
	lsm_set_self_attr lsm_list_modules mseal setxattrat getxattrat listxattrat
	removexattrat open_tree_attr uretprobe)

# sp_old_profile: containerd's allowlist profile (defaultAction
# SCMP_ACT_ERRNO) without any syscall newer than pidfd_open (434): what a
# profile written before close_range existed looks like.
sp_old_profile() {
	jq -c --argjson drop "$(json_array "${SP_POST_434[@]}")" '
		.linux.seccomp
		| .syscalls |= (map(.names -= $drop) | map(select(.names | length > 0)))
		| del(.defaultErrnoRet)' \
		"$BATS_TEST_DIRNAME/../spec-fixtures/valid/containerd-seccomp.json"
}

# sp_use_old_profile: that profile, with process.noNewPrivileges false.
sp_use_old_profile() {
	local p
	p=$(sp_old_profile)
	# sanity: no name left with an x86_64 number >= 435 (when the header is here)
	local hdr=/usr/include/x86_64-linux-gnu/asm/unistd_64.h
	if [ -r "$hdr" ]; then
		local newer
		newer=$(jq -r '.syscalls[].names[]' <<<"$p" | sort -u |
			awk 'NR == FNR { if ($1 == "#define" && $2 ~ /^__NR_/) nr[substr($2, 6)] = $3; next } ($1 in nr) && nr[$1] >= 435' "$hdr" -)
		[ -z "$newer" ] || {
			echo "profile still has post-434 syscalls: $newer" >&2
			return 1
		}
	fi
	update_config '.linux.seccomp = $p | .process.noNewPrivileges = false' --argjson p "$p"
}

# sp_syscall_probe: a static program in the rootfs (/bin/scprobe) printing
# NAME=OK|ENOSYS|EPERM|errno for a few raw syscalls.
sp_syscall_probe() {
	local bin="$BATS_FILE_TMPDIR/scprobe"
	if [ ! -x "$bin" ]; then
		command -v cc >/dev/null || skip "cc needed to build the syscall probe"
		cat >"$BATS_FILE_TMPDIR/scprobe.c" <<'EOF'
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
static void t(const char *name, long r) {
	if (r >= 0) printf("%s=OK\n", name);
	else if (errno == ENOSYS) printf("%s=ENOSYS\n", name);
	else if (errno == EPERM) printf("%s=EPERM\n", name);
	else printf("%s=errno%d\n", name, errno);
}
int main(void) {
	/* x86_64 numbers, newer than the profile */
	t("close_range", syscall(436, 100, 200, 0));
	t("faccessat2", syscall(439, AT_FDCWD, "/", F_OK, 0));
	/* known to the profile but not allowed (both succeed unconfined) */
	t("get_mempolicy", syscall(239, 0, 0, 0, 0, 0));
	t("kcmp", syscall(312, getpid(), getpid(), 1, 0, 0));
	/* allowed */
	t("getppid", syscall(110));
	return 0;
}
EOF
		cc -static -O2 -o "$bin.tmp" "$BATS_FILE_TMPDIR/scprobe.c" && mv "$bin.tmp" "$bin" ||
			skip "cannot build a static syscall probe"
	fi
	cp "$bin" "$ROOTFS/bin/scprobe"
}

sp_require_x86_64() {
	[ "$(uname -m)" = x86_64 ] || skip "syscall numbers are x86_64's"
}

SP_PROBE_WANT=$'close_range=ENOSYS\nfaccessat2=ENOSYS\nget_mempolicy=EPERM\nkcmp=EPERM\ngetppid=OK'

# ===================================================================
# 5. host fds and the cwd (CVE-2024-21626 class)
# ===================================================================

@test "security: exec --cwd /proc/self/fd/N with the caller holding host dirs on fds 3..9 never reaches them" {
	sp_secret
	id=$(unique_id)
	set_args sleep 1000
	create_and_start "$id"
	local n
	for n in 3 4 5 6 7 8 9; do
		run _rt_hostfds exec --cwd "/proc/self/fd/$n" "$id" sh -c "$(sp_probe_cmd)"
		sp_assert_no_secret
	done
	# the container is intact
	runtime exec "$id" true
	assert_status 0
}

@test "security: exec -d --cwd /proc/self/fd/N never reaches the caller's host dirs" {
	sp_secret
	id=$(unique_id)
	set_args sleep 1000
	create_and_start "$id"
	local n
	for n in 5 8; do
		: >"$TESTDIR/execd.out"
		run _rt_hostfds_to_files "$TESTDIR/execd.out" "$TESTDIR/execd.err" \
			exec -d --pid-file "$TESTDIR/execd.pid" --cwd "/proc/self/fd/$n" "$id" sh -c "$(sp_probe_cmd)"
		if [ "$status" -eq 0 ] && [ -s "$TESTDIR/execd.pid" ]; then
			wait_until 10 sp_pid_gone "$(cat "$TESTDIR/execd.pid")"
		fi
		rm -f "$TESTDIR/execd.pid"
		output=$(cat "$TESTDIR/execd.out" "$TESTDIR/execd.err")
		sp_assert_no_secret
	done
}

@test "security: exec -p process.json with cwd /proc/self/fd/5 never reaches the caller's host dir" {
	sp_secret
	id=$(unique_id)
	set_args sleep 1000
	create_and_start "$id"
	local n
	for n in 5 8 9; do
		jq --arg c "/proc/self/fd/$n" --arg s "$(sp_probe_cmd)" \
			'.process | .args = ["sh", "-c", $s] | .cwd = $c | .terminal = false' \
			"$BUNDLE/config.json" >"$TESTDIR/process.json"
		run _rt_hostfds exec -p "$TESTDIR/process.json" "$id"
		sp_assert_no_secret
	done
}

@test "security: exec with host dirs on fds 3..9: the process gets only stdio" {
	sp_secret
	id=$(unique_id)
	set_args sleep 1000
	create_and_start "$id"
	run _rt_hostfds exec "$id" sh -c 'exec ls -l /proc/self/fd 2>/dev/null'
	assert_status 0
	assert_equal "$(sp_fds_of_ls)" "0 1 2"
	sp_assert_no_host_dirs
	# and nothing of the runtime's leaked into the init either
	run _rt_hostfds exec "$id" sh -c 'exec ls -l /proc/1/fd 2>/dev/null'
	assert_status 0
	assert_equal "$(sp_fds_of_ls)" "0 1 2"
	sp_assert_no_host_dirs
}

@test "security: process.cwd /proc/self/fd/N for run/create while the caller holds host dirs: refused or contained" {
	sp_secret
	local n id
	for n in 5 7 8 9; do
		update_config '.process.cwd = $c' --arg c "/proc/self/fd/$n"
		set_args sh -c "$(sp_probe_cmd)"
		id=$(unique_id)
		run _rt_hostfds run --bundle "$BUNDLE" "$id"
		sp_assert_no_secret
		[ -z "$(ls -A "$TESTDIR/hostsecret" | grep -v "^$MARKER\$")" ]
	done
	# create + start (pass-through stdio)
	update_config '.process.cwd = "/proc/self/fd/7"'
	set_args sh -c "$(sp_probe_cmd)"
	id=$(unique_id)
	run _rt_hostfds_to_files "$TESTDIR/c.out" "$TESTDIR/c.err" create --bundle "$BUNDLE" "$id"
	if [ "$status" -eq 0 ]; then
		runtime start "$id"
		wait_for_status "$id" stopped
	fi
	output=$(cat "$TESTDIR/c.out" "$TESTDIR/c.err")
	sp_assert_no_secret
}

@test "security: run / create / run -d with host dirs on fds 3..9: the container sees only stdio" {
	sp_secret
	# run (foreground)
	set_args sh -c 'ls -l /proc/self/fd 2>/dev/null; ls -l /proc/1/fd 2>/dev/null'
	run _rt_hostfds run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	# two listings: 0 1 2 each
	assert_equal "$(sp_fds_of_ls)" "0 0 1 1 2 2"
	sp_assert_no_host_dirs

	# create + start: the init holds nothing else; an exec sees its fds
	set_args sleep 1000
	id=$(unique_id)
	run _rt_hostfds_to_files "$TESTDIR/c.out" "$TESTDIR/c.err" create --bundle "$BUNDLE" "$id"
	assert_status 0
	# the init waiting for `start` may hold the runtime's own fds (runc:
	# exec.fifo, an epoll fd, a pipe), but none of the caller's directories
	pid=$(container_pid "$id")
	local f held callers
	callers=" $(stat -L -c %d:%i "$TESTDIR/hostsecret" / /etc "$TESTDIR" | xargs) "
	for f in /proc/"$pid"/fd/*; do
		[ -d "$f" ] || continue
		held=$(stat -L -c %d:%i "$f")
		if [[ "$callers" == *" $held "* ]]; then
			echo "created container's init holds the caller's fd ${f##*/} -> $(readlink "$f")" >&2
			return 1
		fi
	done
	# ... which a process exec'd in the created container could use
	runtime exec "$id" sh -c 'for f in /proc/1/fd/*; do ls -a "$f/"; cat "$f"/marker-* "$f"/hostsecret/marker-*; done; true'
	sp_assert_no_secret
	runtime start "$id"
	assert_status 0
	sp_wait_execd "$pid" sleep
	runtime exec "$id" sh -c 'exec ls -l /proc/1/fd 2>/dev/null'
	assert_status 0
	assert_equal "$(sp_fds_of_ls)" "0 1 2"
	sp_assert_no_host_dirs

	# run -d
	id=$(unique_id)
	run _rt_hostfds_to_files "$TESTDIR/d.out" "$TESTDIR/d.err" run -d --bundle "$BUNDLE" "$id"
	assert_status 0
	pid=$(container_pid "$id")
	sp_wait_execd "$pid" sleep
	output=$(ls -l "/proc/$pid/fd")
	assert_equal "$(sp_fds_of_ls)" "0 1 2"
}

# ===================================================================
# 6. sysctls vs the host's namespaces
# ===================================================================

@test "security: net.* sysctl with the network namespace joined to the host's by path -> refused, host unchanged" {
	sp_save_sysctl net.ipv4.ip_forward
	before=$(sp_host_sysctl net.ipv4.ip_forward)
	sp_sysctl net.ipv4.ip_forward "$((1 - before))"
	sp_ns_join network "/proc/$$/ns/net"
	sp_run_host_sysctl_unchanged net.ipv4.ip_forward "$before"
	[ "$status" -ne 0 ]
}

@test "security: net.* sysctl without a network namespace (host's shared) -> refused, host unchanged" {
	sp_save_sysctl net.ipv4.ip_forward
	before=$(sp_host_sysctl net.ipv4.ip_forward)
	sp_sysctl net.ipv4.ip_forward "$((1 - before))"
	sp_ns_drop network
	sp_run_host_sysctl_unchanged net.ipv4.ip_forward "$before"
	[ "$status" -ne 0 ]
}

@test "security: ipc sysctl (kernel.shmmax) without an ipc namespace -> refused, host unchanged" {
	sp_save_sysctl kernel.shmmax
	before=$(sp_host_sysctl kernel.shmmax)
	sp_sysctl kernel.shmmax 123456789
	[ "$before" != 123456789 ]
	sp_ns_drop ipc
	sp_run_host_sysctl_unchanged kernel.shmmax "$before"
	[ "$status" -ne 0 ]
}

@test "security: ipc sysctls with the ipc namespace joined to the host's by path -> host unchanged" {
	# runc 1.1.5 accepts the config and writes the sysctl into the joined
	# (here: the host's) namespace.
	is_runc_before_1_2 && skip "runc 1.1 applies sysctls inside a joined host ipc namespace"
	sp_save_sysctl kernel.shmmax
	sp_save_sysctl kernel.msgmax
	before=$(sp_host_sysctl kernel.shmmax)
	sp_sysctl kernel.shmmax 123456789
	[ "$before" != 123456789 ]
	sp_ns_join ipc "/proc/$$/ns/ipc"
	sp_run_host_sysctl_unchanged kernel.shmmax "$before"
	before=$(sp_host_sysctl kernel.msgmax)
	sp_sysctl kernel.msgmax 12345
	[ "$before" != 12345 ]
	sp_run_host_sysctl_unchanged kernel.msgmax "$before"
}

@test "security: kernel.domainname with the uts namespace joined to the host's by path -> host unchanged" {
	is_runc_before_1_2 && skip "runc 1.1 applies sysctls inside a joined host uts namespace"
	sp_save_sysctl kernel.domainname
	before=$(sp_host_sysctl kernel.domainname)
	sp_sysctl kernel.domainname "apus-evil-$RANDOM.example"
	update_config 'del(.hostname)'
	sp_ns_join uts "/proc/$$/ns/uts"
	sp_run_host_sysctl_unchanged kernel.domainname "$before"
}

@test "security: kernel.domainname without a uts namespace -> refused, host unchanged" {
	sp_save_sysctl kernel.domainname
	before=$(sp_host_sysctl kernel.domainname)
	sp_sysctl kernel.domainname "apus-evil-$RANDOM.example"
	update_config 'del(.hostname)'
	sp_ns_drop uts
	sp_run_host_sysctl_unchanged kernel.domainname "$before"
	[ "$status" -ne 0 ]
}

@test "security: non-namespaced sysctls (kernel.core_pattern, vm.swappiness) -> refused, host unchanged" {
	sp_save_sysctl kernel.core_pattern
	sp_save_sysctl vm.swappiness
	before=$(sp_host_sysctl kernel.core_pattern)
	sp_sysctl kernel.core_pattern "core-apus-evil-$RANDOM"
	sp_run_host_sysctl_unchanged kernel.core_pattern "$before"
	[ "$status" -ne 0 ]
	before=$(sp_host_sysctl vm.swappiness)
	sp_sysctl vm.swappiness "$(((before + 1) % 100))"
	sp_run_host_sysctl_unchanged vm.swappiness "$before"
	[ "$status" -ne 0 ]
}

@test "security: net.ipv4.ip_forward in a new network namespace applies inside only" {
	sp_save_sysctl net.ipv4.ip_forward
	before=$(sp_host_sysctl net.ipv4.ip_forward)
	want=$((1 - before))
	sp_sysctl net.ipv4.ip_forward "$want"
	sp_run_host_sysctl_unchanged net.ipv4.ip_forward "$before"
	assert_status 0
	assert_equal "$output" "$want"
}

# ===================================================================
# 7. non-root stdio and the console
# ===================================================================

# (append: reopening a regular file with > would truncate it)
SP_STDIO_CMD='echo out >> /dev/stdout && echo err >> /dev/stderr && echo ok'

# sp_rt_appending OUT ERR ARGS...: the runtime with stdout/stderr appending
# to the (root-owned, 0644) files OUT and ERR: the container's own writes
# and its reopened /dev/stdout then do not overwrite each other.
sp_rt_appending() {
	local out=$1 err=$2
	shift 2
	: >"$out"
	: >"$err"
	(
		_close_fds
		exec "$RUNTIME" --root "$ROOT" "$@"
	) </dev/null >>"$out" 2>>"$err"
}

@test "security: uid 1000 can reopen its stdio (root-owned files, create/start pass-through)" {
	devnull_before=$(stat -c '%u:%g %a' /dev/null)
	update_config '.process.user = {uid: 1000, gid: 1000}'
	set_args sh -c "$SP_STDIO_CMD"
	id=$(unique_id)
	run sp_rt_appending "$TESTDIR/c.out" "$TESTDIR/c.err" create --bundle "$BUNDLE" "$id"
	assert_status 0
	runtime start "$id"
	assert_status 0
	wait_for_status "$id" stopped
	assert_equal "$(cat "$TESTDIR/c.out")" $'out\nok'
	assert_equal "$(cat "$TESTDIR/c.err")" err
	# stdin was /dev/null: the host's /dev/null is untouched
	assert_equal "$(stat -c '%u:%g %a' /dev/null)" "$devnull_before"
}

@test "security: a fake /dev/null in the rootfs never gets the host's /dev/null chowned to the container user" {
	devnull_before=$(stat -c '%u:%g %a' /dev/null)
	# No /dev mount: the rootfs's own /dev, where /dev/null is a regular file.
	update_config '.process.user = {uid: 1000, gid: 1000} | .mounts |= map(select(.destination | startswith("/dev") | not))
		| .linux.maskedPaths = [] | .linux.readonlyPaths = []'
	mkdir -p "$ROOTFS/dev"
	: >"$ROOTFS/dev/null"
	set_args sh -c 'echo ok'
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	# stdin was the host's /dev/null (put back at once if a runtime changed it)
	devnull_after=$(stat -c '%u:%g %a' /dev/null)
	[ "$devnull_after" = "$devnull_before" ] || chown "${devnull_before%% *}" /dev/null
	assert_equal "$devnull_after" "$devnull_before"
}

@test "security: uid 1000 can reopen its stdio (run in the foreground, pipes)" {
	devnull_before=$(stat -c '%u:%g %a' /dev/null)
	update_config '.process.user = {uid: 1000, gid: 1000}'
	set_args sh -c "$SP_STDIO_CMD"
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_equal "$(sort <<<"$output" | xargs)" "err ok out"
	# stdout through a pipeline too
	out=$(
		(
			_close_fds
			exec "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$(unique_id)"
		) </dev/null 2>"$TESTDIR/p.err" | cat
	)
	assert_equal "$out" $'out\nok'
	assert_equal "$(cat "$TESTDIR/p.err")" err
	assert_equal "$(stat -c '%u:%g %a' /dev/null)" "$devnull_before"
}

@test "security: uid 1000 can reopen its stdio (create/start with stdout and stderr pipes)" {
	update_config '.process.user = {uid: 1000, gid: 1000}'
	set_args sh -c "$SP_STDIO_CMD"
	id=$(unique_id)
	# the runtime's stdout/stderr are pipes to cat (pass-through to the container)
	spawn_bg bash -c '"$1" --root "$2" create --bundle "$3" "$4" \
		> >(exec cat >"$5.pout") 2> >(exec cat >"$5.perr"); echo $? >"$5.rc"' \
		_ "$RUNTIME" "$ROOT" "$BUNDLE" "$id" "$TESTDIR/$id"
	wait_until 20 test -s "$TESTDIR/$id.rc"
	assert_equal "$(cat "$TESTDIR/$id.rc")" 0
	runtime start "$id"
	assert_status 0
	wait_for_status "$id" stopped
	wait_until 10 grep -q ok "$TESTDIR/$id.pout"
	wait_until 10 grep -q err "$TESTDIR/$id.perr"
	assert_equal "$(cat "$TESTDIR/$id.pout")" $'out\nok'
	assert_equal "$(cat "$TESTDIR/$id.perr")" err
}

@test "security: exec --user 1000:1000 can reopen its stdio (pipes and root-owned files)" {
	id=$(unique_id)
	set_args sleep 1000
	create_and_start "$id"
	runtime exec --user 1000:1000 "$id" sh -c "$SP_STDIO_CMD"
	assert_status 0
	assert_equal "$(sort <<<"$output" | xargs)" "err ok out"
	run sp_rt_appending "$TESTDIR/x.out" "$TESTDIR/x.err" exec --user 1000:1000 "$id" sh -c "$SP_STDIO_CMD"
	assert_status 0
	assert_equal "$(cat "$TESTDIR/x.out")" $'out\nok'
	assert_equal "$(cat "$TESTDIR/x.err")" err
}

@test "security: terminal as uid 1000: the pty belongs to the user; /dev/console is the pty" {
	sp_need_python
	ln -sf busybox "$ROOTFS/bin/tty"
	update_config '.process.terminal = true | .process.user = {uid: 1000, gid: 1000}'
	set_args sh -c 't=$(tty); echo "tty=$t"; echo "owner=$(stat -c "%u %g" "$t")";
		echo "fd0=$(stat -L -c "%u %t:%T" /proc/self/fd/0)";
		[ -c /dev/console ] && echo console-is-chr;
		echo "rdev=$(stat -c %t:%T "$t") console=$(stat -c %t:%T /dev/console)"'
	console_receiver "$TESTDIR/console.sock" "$TESTDIR/console.out"
	id=$(unique_id)
	create_container "$id" --console-socket "$TESTDIR/console.sock"
	assert_status 0
	runtime start "$id"
	assert_status 0
	wait_for_status "$id" stopped
	wait_until 10 test -e "$TESTDIR/console.out"
	output=$(tr -d '\r' <"$TESTDIR/console.out")
	assert_output_contains "tty=/dev/pts/"
	# runc: uid changed to the user, gid kept (devpts gid=5, "tty")
	assert_output_contains "owner=1000 5"
	assert_match $'fd0=1000 [0-9a-f]+:[0-9a-f]+'
	assert_output_contains "console-is-chr"
	local rdev console
	rdev=$(sed -n 's/^rdev=\([^ ]*\) console=.*/\1/p' <<<"$output")
	console=$(sed -n 's/^rdev=[^ ]* console=\(.*\)/\1/p' <<<"$output")
	[ -n "$rdev" ]
	assert_equal "$console" "$rdev"
}

@test "security: exec -d -t --console-socket --user 1000:1000: the pty belongs to the user" {
	sp_need_python
	ln -sf busybox "$ROOTFS/bin/tty"
	id=$(unique_id)
	set_args sleep 1000
	create_and_start "$id"
	console_receiver "$TESTDIR/console.sock" "$TESTDIR/console.out"
	# (runc: --console-socket only with -d)
	runtime exec -d -t --console-socket "$TESTDIR/console.sock" --user 1000:1000 "$id" \
		sh -c 't=$(tty); echo "tty=$t"; echo "owner=$(stat -c "%u %g" "$t")"'
	assert_status 0
	wait_until 10 test -e "$TESTDIR/console.out"
	output=$(tr -d '\r' <"$TESTDIR/console.out")
	assert_output_contains "tty=/dev/pts/"
	assert_output_contains "owner=1000 5"
}

@test "security: exec -t --user 1000:1000 (runtime's relay): the pty belongs to the user" {
	command -v script >/dev/null || skip "script(1) needed"
	ln -sf busybox "$ROOTFS/bin/tty"
	id=$(unique_id)
	set_args sleep 1000
	create_and_start "$id"
	run sp_script "$RUNTIME --root $ROOT exec -t --user 1000:1000 $id sh -c 'echo owner=\$(stat -c \"%u %g\" \$(tty))'"
	assert_status 0
	output=${output//$'\r'/}
	assert_output_contains "owner=1000 5"
}

# The container waits (up to 3s) for ONLCR to go: runc clears it from its
# relay goroutine, concurrently with the process starting.
SP_ONLCR_CMD='i=0; while [ $i -lt 60 ] && ! stty -a 2>/dev/null | grep -q -- -onlcr; do sleep 0.05; i=$((i + 1)); done; echo hi; echo there'

@test "security: the runtime's pty relay clears ONLCR (run and exec -t)" {
	command -v script >/dev/null || skip "script(1) needed"
	ln -sf busybox "$ROOTFS/bin/stty"
	update_config '.process.terminal = true'
	set_args sh -c "$SP_ONLCR_CMD"
	# the outer terminal's own ONLCR off: what arrives is what the pty sent
	run sp_script "stty -onlcr; $RUNTIME --root $ROOT run --bundle $BUNDLE $(unique_id)"
	assert_status 0
	output=${output//^@/} # script(1) may echo a stray NUL as "^@"
	assert_output_contains $'hi\nthere'
	[[ "$output" != *$'\r'* ]]

	update_config '.process.terminal = false'
	set_args sleep 1000
	id=$(unique_id)
	create_and_start "$id"
	printf '%s\n' "$SP_ONLCR_CMD" >"$ROOTFS/onlcr.sh"
	run sp_script "stty -onlcr; $RUNTIME --root $ROOT exec -t $id sh /onlcr.sh"
	assert_status 0
	output=${output//^@/}
	assert_output_contains $'hi\nthere'
	[[ "$output" != *$'\r'* ]]
}

# sp_console_symlink_case TARGET: no /dev tmpfs (device nodes pre-made in the
# rootfs), /dev/console a symlink to TARGET, a terminal container.  Either
# refused, or run without the pty bound over the symlink's target; the
# rootfs file and the host's core_pattern untouched.
sp_console_symlink_case() {
	local target=$1 id
	update_config '.process.terminal = true | .mounts |= map(select(.destination != "/dev"))'
	rm -rf "$ROOTFS/dev"
	mkdir -p "$ROOTFS/dev/pts"
	mknod -m 666 "$ROOTFS/dev/null" c 1 3
	mknod -m 666 "$ROOTFS/dev/zero" c 1 5
	mknod -m 666 "$ROOTFS/dev/full" c 1 7
	mknod -m 666 "$ROOTFS/dev/random" c 1 8
	mknod -m 666 "$ROOTFS/dev/urandom" c 1 9
	mknod -m 666 "$ROOTFS/dev/tty" c 5 0
	ln -s pts/ptmx "$ROOTFS/dev/ptmx"
	echo "shadow-$RANDOM" >"$ROOTFS/etc/shadow"
	local shadow_before core_before
	shadow_before=$(cat "$ROOTFS/etc/shadow")
	core_before=$(cat /proc/sys/kernel/core_pattern)
	ln -sfn "$target" "$ROOTFS/dev/console"
	set_args sh -c 'for f in /etc/shadow /proc/sys/kernel/core_pattern; do [ -c $f ] && echo "HIJACKED $f"; done; echo done'
	rm -f "$TESTDIR/console.sock" "$TESTDIR/console.out"
	console_receiver "$TESTDIR/console.sock" "$TESTDIR/console.out"
	id=$(unique_id)
	create_container "$id" --console-socket "$TESTDIR/console.sock"
	if [ "$status" -eq 0 ]; then
		runtime start "$id"
		assert_status 0
		wait_for_status "$id" stopped
		wait_until 10 test -e "$TESTDIR/console.out"
		output=$(tr -d '\r' <"$TESTDIR/console.out")
		assert_output_contains done
		[[ "$output" != *HIJACKED* ]] || {
			echo "the pty was bound over the /dev/console symlink's target: $output" >&2
			return 1
		}
	fi
	runtime delete --force "$id"
	assert_equal "$(cat "$ROOTFS/etc/shadow")" "$shadow_before"
	assert_equal "$(cat /proc/sys/kernel/core_pattern)" "$core_before"
	[ "$(stat -c %F "$ROOTFS/etc/shadow")" = "regular file" ]
}

@test "security: rootfs /dev/console symlink (no /dev tmpfs) -> the pty is not bound over its target" {
	sp_need_python
	# runc 1.1.5 follows the symlink: it truncates the target (os.Create)
	# and bind-mounts the pty over it (CVE-2025-52565 class).
	is_runc_before_1_2 && skip "runc 1.1 binds the pty over the /dev/console symlink's target"
	sp_console_symlink_case /proc/sys/kernel/core_pattern
	sp_console_symlink_case /etc/shadow
	sp_console_symlink_case ../etc/shadow
}

# ===================================================================
# 8. a seccomp profile older than close_range, noNewPrivileges false
# ===================================================================

@test "security: old allowlist seccomp profile (no close_range), noNewPrivileges false: run works" {
	sp_use_old_profile
	set_args echo hello
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_equal "$output" hello
}

@test "security: old allowlist seccomp profile, noNewPrivileges false: create + start + exec work" {
	sp_use_old_profile
	set_args sh -c 'echo started; exec sleep 1000'
	id=$(unique_id)
	create_and_start "$id"
	wait_until 10 grep -q started "$TESTDIR/$id.out"
	runtime exec "$id" echo from-exec
	assert_status 0
	assert_equal "$output" from-exec
	runtime exec "$id" sh -c 'grep ^Seccomp: /proc/self/status'
	assert_status 0
	assert_output_contains "Seccomp:	2"
}

@test "security: old allowlist seccomp profile: newer syscalls get ENOSYS, known denied ones EPERM" {
	sp_require_x86_64
	sp_syscall_probe
	sp_use_old_profile
	set_args /bin/scprobe
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_equal "$output" "$SP_PROBE_WANT"
	# the same for an exec'd process
	set_args sleep 1000
	id=$(unique_id)
	create_and_start "$id"
	runtime exec "$id" /bin/scprobe
	assert_status 0
	assert_equal "$output" "$SP_PROBE_WANT"
}
