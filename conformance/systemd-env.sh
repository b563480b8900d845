#!/bin/bash
# A real systemd to test `--systemd-cgroup` against: the cached Debian rootfs
# (tools/systemd-rootfs.sh) booted as PID 1 of a container with its own
# cgroup namespace and a writable (hybrid) cgroup mount, under an overlay so
# the cache is never written. Recipe and measurements: see
# docs/architecture.md ("Testing the systemd driver").
#
#   systemd-env.sh up DIR         boot; DIR (new or empty) holds everything
#   systemd-env.sh exec DIR CMD…  run CMD in it (foreground, stdio passed)
#   systemd-env.sh down DIR       stop it; fails if a process, mount or cgroup is left
#   systemd-env.sh run CMD…       up + exec + down in a temp dir (exit status of CMD)
#
# Inside, /usr/local/bin/apus is $APUS (default: this clone's release build),
# /usr/local/sbin/runc the host's runc, and DIR/share is bound at the same
# path, for bundles. The outer runtime is $SDENV_RUNTIME (default runc).
# SDENV_CGROUP=unified mounts cgroup2 at /sys/fs/cgroup (systemd then runs
# unified, but this host's cgroup2 has no controllers but hugetlb); the
# default is the host's hybrid view, read-write.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
APUS=${APUS:-$here/../.build/release/apus}
OUTER=${SDENV_RUNTIME:-/usr/sbin/runc}
BOOT_TIMEOUT=${SDENV_BOOT_TIMEOUT:-60}

die() { echo "systemd-env: $*" >&2; exit 1; }
# The container's name is its cgroup's too: unique per DIR (its path's hash),
# so environments booted at the same time (every bats run names its DIR
# .../sdenv) never share a cgroup.
name_of() {
	local d
	d=$(cd "$1" && pwd)
	echo "apus-sdenv-$(basename "$d")-$(printf '%s' "$d" | md5sum | cut -c1-8)"
}
outer() { "$OUTER" --root "$1/state" "${@:2}"; }

bundle_config() {
	local dir=$1 name=$2 caps
	caps=$(capsh --print | sed -n 's/^Bounding set =//p' | tr ',' '\n' | grep . | tr 'a-z' 'A-Z' | jq -R . | jq -s .)
	(cd "$dir/bundle" && "$OUTER" spec)
	jq --argjson caps "$caps" --arg rootfs "$dir/merged" --arg share "$dir/share" --arg apus "$(readlink -f "$APUS")" \
		--arg runc /usr/sbin/runc --arg busybox /bin/busybox --arg cg "/$name" --arg view "${SDENV_CGROUP:-hybrid}" '
		.root = {path: $rootfs, readonly: false} | .hostname = "sdtest" | .process.terminal = false
		| .process.args = ["/sbin/init"] | .process.env += ["container=oci"] | .process.noNewPrivileges = false
		| del(.process.rlimits) | .process.capabilities = {bounding: $caps, effective: $caps, permitted: $caps}
		| .linux.namespaces += [{type: "cgroup"}] | .linux.cgroupsPath = $cg
		| .linux.resources.devices = [{allow: true, access: "rwm"}]
		| .mounts |= map(if .destination != "/sys/fs/cgroup" then .
			elif $view == "unified" then .type = "cgroup2" | .source = "cgroup2" | .options = ["nosuid", "noexec", "nodev", "relatime", "rw"]
			else .options = (.options - ["ro"] + ["rw"]) end)
		| .mounts += [
			{destination: "/run", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=755"]},
			{destination: "/run/lock", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "noexec", "mode=1777"]},
			{destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=1777"]},
			{destination: "/usr/local/bin/apus", type: "bind", source: $apus, options: ["bind", "ro"]},
			{destination: "/usr/local/sbin/runc", type: "bind", source: $runc, options: ["bind", "ro"]},
			{destination: "/usr/local/bin/busybox", type: "bind", source: $busybox, options: ["bind", "ro"]},
			{destination: $share, type: "bind", source: $share, options: ["rbind", "rw"]}]
		' "$dir/bundle/config.json" >"$dir/bundle/config.json.new"
	mv "$dir/bundle/config.json.new" "$dir/bundle/config.json"
}

up() {
	local dir=$1 name rootfs deadline state
	[[ -x $APUS ]] || die "no apus binary at $APUS (make build)"
	rootfs=$("$here/../tools/systemd-rootfs.sh") || die "cannot build the systemd rootfs"
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	name=$(name_of "$dir")
	mkdir -p "$dir/upper" "$dir/work" "$dir/merged" "$dir/bundle" "$dir/share" "$dir/state"
	chmod 755 "$dir" "$dir/share"
	mount -t overlay overlay -o "lowerdir=$rootfs,upperdir=$dir/upper,workdir=$dir/work" "$dir/merged"
	bundle_config "$dir" "$name"
	mkdir -p "$dir/merged$dir/share"
	if ! outer "$dir" run -d --bundle "$dir/bundle" "$name" </dev/null >"$dir/boot.log" 2>&1; then
		cat "$dir/boot.log" >&2
		down "$dir" || true
		die "could not start the systemd container"
	fi
	# is-system-running --wait returns once boot is over; before the bus
	# is up it fails at once ("Failed to connect to bus"), so retry until
	# the deadline.
	deadline=$((SECONDS + BOOT_TIMEOUT))
	while ((SECONDS < deadline)); do
		state=$(timeout "$BOOT_TIMEOUT" "$OUTER" --root "$dir/state" exec "$name" systemctl is-system-running --wait 2>/dev/null </dev/null) || true
		case $state in
		running) return 0 ;;
		degraded)
			outer "$dir" exec "$name" systemctl --failed --no-pager </dev/null >&2 || true
			return 0 ;;
		esac
		sleep 0.05
	done
	echo "systemd did not come up in ${BOOT_TIMEOUT}s (last state: ${state:-none})" >&2
	down "$dir" || true
	return 1
}

exec_in() {
	local dir=$1
	shift
	outer "$dir" exec "$(name_of "$dir")" "$@"
}

down() {
	local dir=$1 name left=0 i
	dir=$(cd "$dir" && pwd)
	name=$(name_of "$dir")
	if outer "$dir" state "$name" >/dev/null 2>&1; then
		# SIGRTMIN+3 halts systemd cleanly; KILL if it takes too long.
		outer "$dir" kill "$name" 37 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			[[ $(outer "$dir" state "$name" 2>/dev/null | jq -r .status) == running ]] || break
			sleep 0.05
		done
		outer "$dir" delete --force "$name" >/dev/null 2>&1 || outer "$dir" delete --force "$name" || left=1
	fi
	if mountpoint -q "$dir/merged"; then umount "$dir/merged" || umount -l "$dir/merged" || left=1; fi
	if [[ -n $(find /sys/fs/cgroup -maxdepth 3 -name "$name" 2>/dev/null) ]]; then
		echo "systemd-env: cgroups left: $(find /sys/fs/cgroup -maxdepth 3 -name "$name")" >&2
		left=1
	fi
	if grep -q " $dir/" /proc/self/mountinfo; then
		echo "systemd-env: mounts left under $dir" >&2
		left=1
	fi
	((left == 0)) && rm -rf --one-file-system "$dir"
	return $left
}

case ${1:-} in
up) up "$2" ;;
exec) exec_in "$2" "${@:3}" ;;
down) down "$2" ;;
run)
	shift
	dir=$(mktemp -d /tmp/apus-sdenv.XXXXXX)
	trap 'down "$dir"' EXIT
	up "$dir"
	rc=0
	exec_in "$dir" "$@" || rc=$?
	exit $rc
	;;
*) sed -n '2,15p' "$0" >&2; exit 2 ;;
esac
