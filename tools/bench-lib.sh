# tools/bench-lib.sh -- helpers of tools/bench.sh (sourced): work directory,
# bundles, how crun runs here, and the cleanup that leaves nothing behind.

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

# bench_closed CMD...: CMD without fds above 2 (make's jobserver, ...): a
# container keeps whatever its `create` had.
bench_closed() {
	(
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			if [[ "$fd" =~ ^[0-9]+$ ]] && ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
		done
		exec "$@"
	)
}

# bench_workdir: WORK (a fresh temp dir) and PREFIX (starts every container
# id, and so every cgroup, of this run).
bench_workdir() {
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/apus-bench.XXXXXX")"
	chmod 755 "$WORK"
	PREFIX="apus-bench-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
	CRUN_WRAP=()
	CRUN_NOTE=""
	BENCH_PID=""
}

# bench_cleanup_on_exit NAME=BINARY...: at exit (also on failure or
# interrupt) stop the measurement, delete every $PREFIX container of each
# runtime, kill and remove leftover $PREFIX cgroups, unmount and remove WORK.
bench_cleanup_on_exit() {
	BENCH_RUNTIMES=("$@")
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

bench_cleanup() {
	local rc=$? r name bin root d cgs pid m
	trap - EXIT INT TERM
	set +e
	if [ -n "$BENCH_PID" ] && kill -0 "$BENCH_PID" 2>/dev/null; then
		kill -TERM "$BENCH_PID" 2>/dev/null
		wait "$BENCH_PID" 2>/dev/null
	fi
	for r in "${BENCH_RUNTIMES[@]}"; do
		name=${r%%=*} bin=${r#*=} root="$WORK/root-$name"
		[ -d "$root" ] || continue
		local wrap=()
		[ "$name" = crun ] && wrap=("${CRUN_WRAP[@]}")
		for d in "$root/$PREFIX"-*; do
			[ -e "$d" ] || continue
			timeout -s KILL 20 "${wrap[@]}" "$bin" --root "$root" delete --force "${d##*/}" </dev/null >/dev/null 2>&1
		done
	done
	cgs="$(find /sys/fs/cgroup -type d -name "$PREFIX-*" -prune 2>/dev/null)"
	if [ -n "$cgs" ]; then
		note "removing leftover cgroups: $(echo "$cgs" | wc -l) directories"
		for d in $cgs; do
			for pid in $(cat "$d"/cgroup.procs 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
		done
		sleep 0.2
		for d in $cgs; do find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done
	fi
	for m in $(grep -F " $WORK" /proc/self/mountinfo 2>/dev/null | awk '{print $5}' | sort -r); do
		umount -l "$m" 2>/dev/null
	done
	rm -rf --one-file-system "$WORK"
	exit "$rc"
}

# bench_bundles SPEC_TOOL M...: $WORK/rootfs (busybox), $WORK/bundle-sleep
# (`sleep 3600`) and $WORK/bundle-true-m<M> (`true`, M read-only bind mounts
# of $WORK/vol added to the spec's defaults) for each M.
bench_bundles() {
	local tool=$1 m a
	shift
	mkdir -p "$WORK/rootfs"/{bin,proc,sys,dev,tmp,mnt} "$WORK/vol" "$WORK/bundle-sleep"
	cp "$BUSYBOX" "$WORK/rootfs/bin/busybox"
	for a in true sleep sh; do ln -s busybox "$WORK/rootfs/bin/$a"; done
	(cd "$WORK" && "$tool" spec && mv config.json spec.json)
	jq --arg root "$WORK/rootfs" '.process.terminal = false | .root.readonly = false | .root.path = $root
		| .process.args = ["sleep", "3600"]' "$WORK/spec.json" >"$WORK/bundle-sleep/config.json"
	for m in "$@"; do
		mkdir -p "$WORK/bundle-true-m$m"
		for ((a = 0; a < m; a++)); do mkdir -p "$WORK/rootfs/mnt/m$a"; done
		jq --arg root "$WORK/rootfs" --arg vol "$WORK/vol" --argjson m "$m" '.process.terminal = false
			| .root.readonly = false | .root.path = $root | .process.args = ["true"]
			| .mounts += [range($m) | {destination: "/mnt/m\(.)", type: "bind", source: $vol,
				options: ["rbind", "ro"]}]' "$WORK/spec.json" >"$WORK/bundle-true-m$m/config.json"
	done
}

# bench_crun_wrap CRUN: can crun run `true` here, and how. Sets CRUN_WRAP (a
# command prefix, empty when crun runs as is) and CRUN_NOTE; fails when crun
# cannot run even so.
bench_crun_wrap() {
	local crun=$1 probe="$PREFIX-crun-probe" root="$WORK/root-crun" first
	: >"$WORK/empty"
	if (bench_closed "$crun" --root "$root" run --bundle "$WORK/bundle-true-m1" "$probe") </dev/null >/dev/null 2>"$WORK/probe.err"; then
		return 0
	fi
	"$crun" --root "$root" delete --force "$probe" </dev/null >/dev/null 2>&1 || true
	first="$(head -c 300 "$WORK/probe.err")"
	if ! grep -q 'hybrid mode' "$WORK/probe.err"; then
		CRUN_NOTE="crun: cannot run containers here, left out: $first"
		return 1
	fi
	CRUN_WRAP=(unshare --mount --propagation private sh -c
		'mount --bind "$0" /sys/fs/cgroup/unified/cgroup.controllers && exec "$@"' "$WORK/empty")
	if (bench_closed "${CRUN_WRAP[@]}" "$crun" --root "$root" run --bundle "$WORK/bundle-true-m1" "$probe") </dev/null >/dev/null 2>"$WORK/probe.err"; then
		"${CRUN_WRAP[@]}" "$crun" --root "$root" delete --force "$probe" </dev/null >/dev/null 2>&1 || true
		CRUN_NOTE="crun 1.8 refuses this host's hybrid layout ('$first'; cgroup2 holds: $(paste -sd' ' /sys/fs/cgroup/unified/cgroup.controllers)).
The least invasive change that lets it run: every runtime is measured in one private mount namespace where
/sys/fs/cgroup/unified/cgroup.controllers reads empty (nothing on the host changes; rebinding hugetlb as a v1
hierarchy would change the host's layout under everything else). crun then does its usual cgroupfs setup; apus
and runc read that file only for a controller the config asks for, and this config asks for none."
		return 0
	fi
	CRUN_NOTE="crun: cannot run containers here, left out: $first / in a namespace hiding cgroup2's controllers: $(head -c 300 "$WORK/probe.err")"
	CRUN_WRAP=()
	return 1
}
