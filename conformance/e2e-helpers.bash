# shellcheck shell=bash
#
# Shared helpers for the end-to-end suites (e2e-podman.bats, e2e-docker.bats,
# e2e-containerd.bats): real containers started by podman,
# dockerd / containerd with $RUNTIME (default .build/release/apus) as the OCI runtime.
#
#   bats conformance/e2e-podman.bats conformance/e2e-containerd.bats
#   RUNTIME=/usr/sbin/runc bats conformance/e2e-*.bats   # check the tests themselves
#
# Every file works in a private directory E2E_DIR=/tmp/apus-e2e-<kind>-<hex>
# (state, image store, sockets, logs), names its cgroups after E2E_ID (its
# basename), and removes all of it in teardown_file, even after failures:
# processes, mounts, cgroups, the temp dir.  Per-test teardowns check that
# the runtime left nothing behind (state dirs, container cgroups).
#
# Known apus gaps: a test that hits an error apus gives for a feature it does
# not have calls `skip_on_apus_gap REGEX...`, which skips it (against apus
# only) with the exact error line, so the report shows what is missing.
# Against runc, or once apus is fixed, the same test runs to the end.

# A test is a few podman/ctr/docker commands, each bounded by
# E2E_CMD_TIMEOUT: 180 s leaves room for a loaded machine.
export BATS_TEST_TIMEOUT="${BATS_TEST_TIMEOUT:-180}"
load helpers

# How long one podman/ctr command may take.
E2E_CMD_TIMEOUT="${E2E_CMD_TIMEOUT:-60}"

# e2e_require_bins BIN...: in setup_file (bats 1.8 cannot `skip` there):
# unless every BIN is on PATH, RUNTIME and BUSYBOX exist and we are root,
# export E2E_SKIP (the reason) and fail, so setup_file can `return 0`;
# setup() then skips every test (e2e_skip_unavailable).
e2e_require_bins() {
	local b
	E2E_SKIP=
	for b in "$@"; do
		command -v "$b" >/dev/null 2>&1 || E2E_SKIP="$b is not installed (make deps)"
	done
	[ -x "$RUNTIME" ] || E2E_SKIP="RUNTIME=$RUNTIME is not an executable (make build)"
	[ -x "$BUSYBOX" ] || E2E_SKIP="no static busybox at $BUSYBOX"
	[ "$(id -u)" = 0 ] || E2E_SKIP="needs root"
	export E2E_SKIP
	[ -z "$E2E_SKIP" ]
}

# e2e_skip_unavailable: in setup(): skip when setup_file found a tool missing.
e2e_skip_unavailable() {
	[ -z "${E2E_SKIP:-}" ] || skip "$E2E_SKIP"
}

# e2e_make_dir KIND: create and export E2E_DIR and E2E_ID.
e2e_make_dir() {
	E2E_ID="apus-e2e-$1-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
	E2E_DIR="/tmp/$E2E_ID"
	mkdir -m 755 "$E2E_DIR" || return 1
	mkdir -p "$E2E_DIR/bin"
	export E2E_ID E2E_DIR
}

# e2e_build_rootfs: $E2E_DIR/rootfs (static busybox, applet links, passwd,
# /tmp 1777, /data/marker for copy-up checks) and $E2E_DIR/busybox.tar.
e2e_build_rootfs() {
	local r="$E2E_DIR/rootfs" a
	mkdir -p "$r"/{bin,etc,proc,sys,dev,tmp,run,root,var/tmp,data}
	chmod 1777 "$r/tmp" "$r/var/tmp"
	cp "$BUSYBOX" "$r/bin/busybox"
	for a in "${BUSYBOX_APPLETS[@]}" grep tty; do
		ln -sf busybox "$r/bin/$a"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$r/etc/passwd"
	printf 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n' >"$r/etc/group"
	echo copied-up >"$r/data/marker"
	tar -C "$r" --numeric-owner -cf "$E2E_DIR/busybox.tar" .
}

# e2e_go_arch: the host architecture in OCI (Go) spelling.
e2e_go_arch() {
	case "$(uname -m)" in
	x86_64) echo amd64 ;;
	aarch64) echo arm64 ;;
	armv7l) echo arm ;;
	i?86) echo 386 ;;
	*) uname -m ;;
	esac
}

# e2e_build_oci_archive NAME OUT: an OCI image layout tarball (one
# uncompressed layer: busybox.tar) tagged NAME, for `ctr images import`.
e2e_build_oci_archive() {
	local name=$1 out=$2 d="$E2E_DIR/oci" l ls c cs m ms
	mkdir -p "$d/blobs/sha256"
	l=$(sha256sum "$E2E_DIR/busybox.tar" | cut -d' ' -f1)
	ls=$(stat -c %s "$E2E_DIR/busybox.tar")
	cp "$E2E_DIR/busybox.tar" "$d/blobs/sha256/$l"
	jq -nc --arg d "sha256:$l" --arg arch "$(e2e_go_arch)" \
		'{architecture: $arch, os: "linux",
		  config: {Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["/bin/sh"]},
		  rootfs: {type: "layers", diff_ids: [$d]}}' >"$d/config.json"
	c=$(sha256sum "$d/config.json" | cut -d' ' -f1)
	cs=$(stat -c %s "$d/config.json")
	mv "$d/config.json" "$d/blobs/sha256/$c"
	jq -nc --arg c "sha256:$c" --argjson cs "$cs" --arg l "sha256:$l" --argjson ls "$ls" \
		'{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
		  config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
		  layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]}' >"$d/manifest.json"
	m=$(sha256sum "$d/manifest.json" | cut -d' ' -f1)
	ms=$(stat -c %s "$d/manifest.json")
	mv "$d/manifest.json" "$d/blobs/sha256/$m"
	jq -nc --arg m "sha256:$m" --argjson ms "$ms" --arg n "$name" \
		'{schemaVersion: 2, manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json",
		  digest: $m, size: $ms, annotations: {"io.containerd.image.name": $n,
		  "org.opencontainers.image.ref.name": ($n | sub(".*:"; ""))}}]}' >"$d/index.json"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$d/oci-layout"
	tar -C "$d" -cf "$out" .
	rm -rf "$d"
}

# e2e_bounded CMD...: CMD with stdin from /dev/null, no fds above 2 (bats
# waits on its fds 3/4: a daemon inheriting them would hang the suite), and
# killed after E2E_CMD_TIMEOUT seconds.
e2e_bounded() {
	(
		_close_fds
		exec timeout -k 5 "$E2E_CMD_TIMEOUT" "$@"
	) </dev/null
}

# e2e_in_tty CMD...: CMD (quoted safely) on a fresh pty from `script`
# (podman -t / ctr --tty need a real terminal); exit status is CMD's.
e2e_in_tty() {
	local cmd
	printf -v cmd '%q ' "$@"
	(
		_close_fds
		exec timeout -k 5 "$E2E_CMD_TIMEOUT" script -qec "$cmd" /dev/null
	) </dev/null
}

# skip_on_apus_gap REGEX...: when RUNTIME is apus and a line of $output
# matches one of the extended REGEXes (an error apus gives for a feature it
# lacks), skip the test with that exact line (E2E_DIR shown as $E2E_DIR).
# Against runc, or when apus succeeds, it does nothing and the test goes on.
skip_on_apus_gap() {
	runtime_is_apus || return 0
	local re line
	for re in "$@"; do
		line=$(grep -E -m1 -- "$re" <<<"$output") || continue
		line=${line//"$E2E_DIR"/\$E2E_DIR}
		skip "apus: $line"
	done
	return 0
}

# assert_line_equal TEXT: some line of $output is exactly TEXT.
assert_line_equal() {
	if ! grep -Fxq -- "$1" <<<"${output//$'\r'/}"; then
		echo "expected a line: $1" >&2
		echo "actual output: $output" >&2
		return 1
	fi
}

# e2e_cgroup_file PID CONTROLLER FILE: the host path of FILE in PID's cgroup
# for CONTROLLER (v1 controller name, or "" for the v2 unified hierarchy).
e2e_cgroup_file() {
	local pid=$1 ctrl=$2 file=$3 rel mnt
	if [ -n "$ctrl" ]; then
		rel=$(awk -F: -v c="$ctrl" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$pid/cgroup")
		mnt=/sys/fs/cgroup/$ctrl
		[ -d "$mnt" ] || mnt=$(awk -v c="$ctrl" '$9 == "cgroup" && ("," $NF ",") ~ ("," c ",") { print $5; exit }' /proc/self/mountinfo)
	else
		rel=$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup")
		mnt=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
	fi
	echo "$mnt$rel/$file"
}

# e2e_freezer_state PID: FROZEN / THAWED (v1 freezer, else v2 cgroup.freeze 1 / 0).
e2e_freezer_state() {
	local f
	f=$(e2e_cgroup_file "$1" freezer freezer.state)
	if [ -r "$f" ]; then
		cat "$f"
	else
		f=$(e2e_cgroup_file "$1" "" cgroup.freeze)
		case "$(cat "$f" 2>/dev/null)" in
		1) echo FROZEN ;;
		0) echo THAWED ;;
		esac
	fi
}

# --------------------------------------------------------------------------
# Cleanup (teardowns): only what belongs to E2E_DIR / E2E_ID.
# --------------------------------------------------------------------------

# e2e_cgroup_dirs NAME: every cgroup directory named NAME at the top of a
# hierarchy, plus everything below it, deepest first.
e2e_cgroup_dirs() {
	local top
	for top in /sys/fs/cgroup/*/"$1" /sys/fs/cgroup/"$1"; do
		[ -d "$top" ] && find "$top" -depth -type d 2>/dev/null
	done
	return 0
}

# e2e_cgroup_pids NAME: pids in the cgroups below /sys/fs/cgroup/*/NAME.
e2e_cgroup_pids() {
	local d
	for d in $(e2e_cgroup_dirs "$1"); do
		cat "$d/cgroup.procs" 2>/dev/null
	done | sort -un
}

# e2e_own_daemons: pids of processes named conmon, containerd, containerd-shim*,
# podman or dockerd whose command line mentions E2E_DIR.
e2e_own_daemons() {
	local f pid comm
	[ -n "${E2E_DIR:-}" ] || return 0
	for f in /proc/[0-9]*/cmdline; do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		[ "$pid" = "$$" ] || [ "$pid" = "$BASHPID" ] && continue
		comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
		case "$comm" in
		conmon | containerd | containerd-shim* | podman | dockerd) ;;
		*) continue ;;
		esac
		tr '\0' ' ' <"$f" 2>/dev/null | grep -qF -- "$E2E_DIR" && echo "$pid"
	done
	return 0
}

# e2e_kill_leftovers CGROUP-NAME: SIGKILL the processes in our cgroups and
# our conmon/containerd/shim processes; prints what it killed.
e2e_kill_leftovers() {
	local pids d
	for d in $(e2e_cgroup_dirs "$1"); do
		[ -w "$d/freezer.state" ] && echo THAWED >"$d/freezer.state" 2>/dev/null
		[ -w "$d/cgroup.freeze" ] && echo 0 >"$d/cgroup.freeze" 2>/dev/null
	done
	pids=$({
		e2e_cgroup_pids "$1"
		e2e_own_daemons
	} | sort -un | tr '\n' ' ')
	pids=${pids% }
	[ -n "$pids" ] || return 0
	echo "$pids"
	# shellcheck disable=SC2086
	kill -9 $pids 2>/dev/null
	local i
	for ((i = 0; i < 50; i++)); do
		[ -z "$(e2e_cgroup_pids "$1")$(e2e_own_daemons)" ] && break
		sleep 0.1
	done
	return 0
}

# e2e_mounts_under DIR: mount points below DIR, deepest first.
e2e_mounts_under() {
	awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

# e2e_unmount_all DIR: unmount everything below DIR; prints what it unmounted.
e2e_unmount_all() {
	local m i
	for ((i = 0; i < 3; i++)); do
		for m in $(e2e_mounts_under "$1"); do
			echo "$m"
			umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		done
		[ -z "$(e2e_mounts_under "$1")" ] && break
	done
	return 0
}

# e2e_remove_cgroups NAME: rmdir our cgroup trees; prints what is left.
# A directory below /sys/fs/cgroup that is no cgroup (a plain directory on
# the tmpfs there, where no hierarchy is mounted) gets real files from the
# tools (conmon writes "tasks"): those are removed first.
e2e_remove_cgroups() {
	local d
	for d in $(e2e_cgroup_dirs "$1"); do
		[ "$(stat -f -c %T "$d")" = tmpfs ] && rm -f "$d"/tasks "$d"/cgroup.procs
		rmdir "$d" 2>/dev/null
	done
	e2e_cgroup_dirs "$1"
}

# e2e_record_absent PATH...: note which of these (shared, outside E2E_DIR)
# paths do not exist yet, so teardown_file removes only what the tools made.
e2e_record_absent() {
	local p
	E2E_ABSENT=
	for p in "$@"; do
		[ -e "$p" ] || E2E_ABSENT+="$p "
	done
	export E2E_ABSENT
}

# e2e_remove_if_created PATH...: for each PATH that was absent at setup
# (E2E_ABSENT): remove the given files, then rmdir the given dirs if empty
# (never rm -r: another user may have started using them meanwhile).
e2e_remove_if_created() {
	local p
	for p in "$@"; do
		[[ " $E2E_ABSENT " == *" $p "* ]] || continue
		if [ -d "$p" ] && ! [ -L "$p" ]; then
			rmdir "$p" 2>/dev/null
		else
			rm -f "$p"
		fi
	done
	return 0
}

# e2e_check_after_test STATE-ROOT CGROUP-REGEX: in a per-test teardown,
# after the tool removed its containers: whatever the runtime left in its
# STATE-ROOT is deleted (--force) and container cgroups below E2E_ID whose
# path matches the extended CGROUP-REGEX are killed and removed; each is
# reported and fails the test.
e2e_check_after_test() {
	local root=$1 re=$2 rc=0 left d
	left=$(ls -A "$root" 2>/dev/null)
	if [ -n "$left" ]; then
		echo "teardown: runtime state left behind: $left" >&2
		for d in $left; do
			timeout -k 5 20 "$RUNTIME" --root "$root" delete --force "$d" </dev/null >/dev/null 2>&1
		done
		rc=1
	fi
	left=$(e2e_cgroup_dirs "$E2E_ID" | grep -E -- "$re" || true)
	if [ -n "$left" ]; then
		echo "teardown: container cgroups left behind: $left" >&2
		e2e_kill_leftovers "$E2E_ID" >/dev/null
		for d in $left; do rmdir "$d" 2>/dev/null; done
		rc=1
	fi
	return $rc
}

# e2e_final_cleanup STATE-ROOT CREATED-PATH...: the end of teardown_file,
# once the tool has removed its containers and stopped its daemons: kill what
# is left in our cgroups and our daemons, delete the containers left in the
# runtime's STATE-ROOT, unmount what is left below E2E_DIR, remove our
# cgroups, the shared CREATED-PATHs the tools made (e2e_remove_if_created)
# and E2E_DIR. Each leftover is reported and makes it fail.
e2e_final_cleanup() {
	local root=$1 rc=0 left id
	shift
	left=$(e2e_kill_leftovers "$E2E_ID")
	[ -n "$left" ] && { echo "teardown_file: killed leftover processes: $left" >&2; rc=1; }
	for id in $(ls -A "$root" 2>/dev/null); do
		echo "teardown_file: runtime state left for $id" >&2
		timeout -k 5 20 "$RUNTIME" --root "$root" delete --force "$id" </dev/null >/dev/null 2>&1
		rc=1
	done
	left=$(e2e_unmount_all "$E2E_DIR")
	[ -n "$left" ] && { echo "teardown_file: unmounted leftovers: $left" >&2; rc=1; }
	left=$(e2e_remove_cgroups "$E2E_ID")
	[ -n "$left" ] && { echo "teardown_file: cannot remove cgroups: $left" >&2; rc=1; }
	e2e_remove_if_created "$@"
	rm -rf --one-file-system "$E2E_DIR"
	[ -e "$E2E_DIR" ] && { echo "teardown_file: cannot remove $E2E_DIR" >&2; rc=1; }
	return $rc
}

# e2e_dump_log FILE [LINES]: show the tail of a log when a test failed.
e2e_dump_log() {
	[ -s "$1" ] || return 0
	echo "--- last lines of $1:" >&2
	tail -n "${2:-20}" "$1" | cut -c1-400 >&2
}
