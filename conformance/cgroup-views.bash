# cgroup-views.bash: the cgroup layout views (hybrid as it is, pure v2, plain
# v1) that cgroup-layouts.bats and cgroups-*.bats run the runtime in, built in
# a private mount namespace for every runtime invocation (see view.sh below).
# Load after helpers; set REAL_RUNTIME=$RUNTIME and LAYOUT=hybrid in setup.

# --------------------------------------------------------------------------
# Layout views
# --------------------------------------------------------------------------

# cgroup_table [INNER]: one line per cgroup hierarchy mounted on the host
# under /sys/fs/cgroup:
#   KEY VISIBLE HOST-MOUNTPOINT INSIDE HOST-DIR VIEW-DIR
# KEY as /proc/self/cgroup names it ("cpu", "name=systemd"; "unified" for
# cgroup2; a hierarchy mounted twice counts once); VISIBLE 1 if the runtime
# sees it in $LAYOUT; INSIDE where the container's cgroup mount shows it;
# HOST-DIR and VIEW-DIR the container's cgroup for linux.cgroupsPath INNER (the
# id when none) on the host and in the view: absolute from the hierarchy's
# root, relative from our own (and so the runtime's) cgroup.
# (One awk for everything: bats makes every shell command slow.)
cgroup_table() {
	awk -v inner="${1:-}" -v layout="${LAYOUT:-hybrid}" '
	FNR == NR {
		i = index($0, ":"); n = substr($0, 1, i - 1); rest = substr($0, i + 1)
		j = index(rest, ":"); c = substr(rest, 1, j - 1)
		own[(n == "0" && c == "") ? "unified" : c] = substr(rest, j + 1)
		next
	}
	$5 ~ "^/sys/fs/cgroup(/|$)" {
		for (i = 7; i <= NF; i++) if ($i == "-") break
		key = ""
		if ($(i + 1) == "cgroup2") key = "unified"
		else if ($(i + 1) == "cgroup") {
			n = split($(i + 3), o, ",")
			for (j = 1; j <= n; j++)
				if (o[j] != "rw" && o[j] != "ro" && o[j] !~ /^(clone_children|release_agent|noprefix|xattr)/)
					key = key (key == "" ? "" : ",") o[j]
		}
		if (key == "" || key in seen) next
		seen[key] = 1
		vis = (layout == "hybrid" || (layout == "v2") == (key == "unified")) ? 1 : 0
		if (layout == "v2") inside = "/sys/fs/cgroup"
		else if (key == "unified") inside = "/sys/fs/cgroup/unified"
		else { inside = key; sub(/.*=/, "", inside); inside = "/sys/fs/cgroup/" inside }
		if (substr(inner, 1, 1) == "/") p = inner
		else { p = own[key]; sub(/\/$/, "", p); p = p "/" inner }
		print key, vis, $5, inside, $5 p, (layout == "v2" ? "/sys/fs/cgroup" : $5) p
	}' /proc/self/cgroup /proc/self/mountinfo
}

# visible KEY: the runtime sees hierarchy KEY in $LAYOUT.
visible() {
	cgroup_table | awk -v k="$1" '$1 == k && $2 { f = 1 } END { exit !f }'
}

# cgroup_dirs INNER [hidden]: host directories of the container's cgroups in
# the hierarchies the runtime sees (or, with "hidden", in those it does not).
cgroup_dirs() {
	cgroup_table "$1" | awk -v h="${2:-}" '($2 == 1) != (h == "hidden") { print $5 }'
}

# cgroup_dir INNER KEY: the host directory in hierarchy KEY.
cgroup_dir() {
	cgroup_table "$1" | awk -v k="$2" '$1 == k { print $5 }'
}

# inside_path KEY: where the container's cgroup mount shows hierarchy KEY.
inside_path() {
	cgroup_table | awk -v k="$1" '$1 == k { print $4 }'
}

# _host_cgroup_mounts: the host's cgroup mounts (for the before/after check).
_host_cgroup_mounts() {
	awk '$5 ~ "^/sys/fs/cgroup(/|$)"' /proc/self/mountinfo
}

# _write_view_script: $TESTDIR/view.sh LAYOUT HOST-MNTNS TMPDIR CMD [ARGS...],
# to be run by `unshare -m --propagation private`: rebuilds /sys/fs/cgroup as
# the LAYOUT view, checks it and execs CMD.
_write_view_script() {
	cat >"$TESTDIR/view.sh" <<'EOF'
#!/bin/bash
set -eu
layout=$1 hostns=$2 tmpdir=$3
shift 3
die() { echo "view.sh: $*" >&2; exit 125; }
# Never touch the mounts of the caller's mount namespace.
[ "$(readlink /proc/self/ns/mnt)" != "$hostns" ] || die "not in a new mount namespace"
awk '{ for (i = 7; i <= NF; i++) { if ($i == "-") break; if ($i ~ /^shared:/) exit 1 } }' /proc/self/mountinfo ||
	die "mount namespace is not private"
# "MOUNTPOINT FSTYPE" of every mount
mi() { awk '{ for (i = 7; i <= NF; i++) if ($i == "-") break; print $5, $(i + 1) }' /proc/self/mountinfo; }
# umount_all AWK-CONDITION: unmount (in this private copy of the mount table)
# every mount "MOUNTPOINT FSTYPE" matching it, stacked ones too. A copied
# mount can go between the read and the umount: when a process on the host
# removes its mount point (CRIU's cgroup yard in a checkpoint running at the
# same time), the kernel detaches it from every namespace. A failed umount is
# retried from a fresh read, so only a mount that stays fails the view.
umount_all() {
	local m n=0 fails=0 err
	while m=$(mi | awk "$1 { m = \$1 } END { print m }") && [ -n "$m" ]; do
		if err=$(umount -l "$m" 2>&1); then
			fails=0
		else
			((++fails < 100)) || die "umount $m failed: $err"
			sleep 0.05
		fi
		((++n < 1000)) || die "cannot unmount $m"
	done
}
# Cgroup mounts elsewhere (say, a container's rootfs) would be part of what the
# runtime sees: drop them.
umount_all '$2 ~ /^cgroup2?$/ && $1 !~ "^/sys/fs/cgroup(/|$)"'
case $layout in
v2)
	src=$(mi | awk '$2 == "cgroup2" { print $1; exit }')
	[ -n "$src" ] || die "no cgroup2 mount to build the v2 view from"
	tmp=$(mktemp -d "$tmpdir/v2.XXXXXX")
	mount --bind "$src" "$tmp"
	umount -R /sys/fs/cgroup
	mount --move "$tmp" /sys/fs/cgroup
	rmdir "$tmp"
	[ "$(mi | awk '$1 ~ "^/sys/fs/cgroup(/|$)" || $2 ~ /^cgroup2?$/')" = "/sys/fs/cgroup cgroup2" ] ||
		die "v2 view: unexpected mounts: $(mi | grep cgroup | tr '\n' ' ')"
	;;
v1)
	umount_all '$2 == "cgroup2"'
	! mi | grep -q ' cgroup2$' || die "v1 view: cgroup2 still mounted"
	mi | grep -q ' cgroup$' || die "v1 view: no v1 hierarchy"
	;;
*) die "unknown layout $layout" ;;
esac
# VIEW_JOIN=/some/cgroup (v2): run CMD in that cgroup of the view
if [ -n "${VIEW_JOIN:-}" ]; then echo $$ >"/sys/fs/cgroup$VIEW_JOIN/cgroup.procs"; fi
exec "$@"
EOF
	chmod 755 "$TESTDIR/view.sh"
}

# in_view CMD [ARGS...]: run CMD with the $LAYOUT view of /sys/fs/cgroup.
in_view() {
	unshare -m --propagation private "$TESTDIR/view.sh" "$LAYOUT" "$(readlink /proc/self/ns/mnt)" "$TESTDIR" "$@"
}

# use_layout hybrid|v2|v1: run the runtime on that layout from now on (skip if
# the host cannot provide it).
use_layout() {
	LAYOUT=$1
	local keys
	keys="$(cgroup_table | awk '{ print $1 }')"
	case $LAYOUT in
	hybrid)
		if ! grep -qx unified <<<"$keys" || ! grep -qvx unified <<<"$keys"; then
			skip "the host's cgroups are not the hybrid layout"
		fi
		return 0
		;;
	v2) grep -qx unified <<<"$keys" || skip "no cgroup2 mount on the host" ;;
	v1)
		grep -qvx unified <<<"$keys" || skip "no cgroup v1 hierarchy on the host"
		# cgroup2 at /sys/fs/cgroup itself cannot be unmounted from under v1
		! cgroup_table | grep -q '^unified [01] /sys/fs/cgroup ' || skip "cgroup2 is mounted at /sys/fs/cgroup"
		;;
	esac
	_write_view_script
	cat >"$TESTDIR/apus-$LAYOUT" <<EOF
#!/bin/sh
exec unshare -m --propagation private "$TESTDIR/view.sh" $LAYOUT "$(readlink /proc/self/ns/mnt)" "$TESTDIR" "$REAL_RUNTIME" "\$@"
EOF
	chmod 755 "$TESTDIR/apus-$LAYOUT"
	RUNTIME="$TESTDIR/apus-$LAYOUT"
}


# real_runtime_is_runc: the runtime is runc (the reference). Some checks encode
# Apus's own, documented choices where runc (any version) differs.
real_runtime_is_runc() {
	"$REAL_RUNTIME" --version 2>/dev/null </dev/null 3>&- 4>&- | grep -q '^runc version'
}
