#!/bin/bash
# Builds (once) and caches a Debian rootfs with systemd and dbus, booted as
# PID 1 of a container by conformance/systemd-env.sh for the
# --systemd-cgroup tests. The cache lives outside the clone and is rebuilt
# when this recipe changes (its hash is the stamp).
#
#   tools/systemd-rootfs.sh [CACHE_DIR]     prints the rootfs path
#
# containerd and podman are in it for the e2e scenarios (conformance/e2e-systemd.bats);
# podman needs a network stack and debootstrap cannot pick one for a virtual package.
# CACHE_DIR defaults to $APUS_TEST_CACHE or /var/cache/apus-test. The mirror
# is the one apt uses (no internet but Debian's apt mirror is assumed).
set -euo pipefail

cache=${1:-${APUS_TEST_CACHE:-/var/cache/apus-test}}
rootfs=$cache/systemd-rootfs
stamp=$(sha256sum "$0" | cut -c1-16)
suite=${SYSTEMD_ROOTFS_SUITE:-bookworm}

# The mirror apt uses for the suite itself (not -security or -updates).
mirror() {
	local m
	m=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null | awk -v s="$suite" '$2 == s { print $1; exit }')
	echo "${m:-http://deb.debian.org/debian/}"
}

mkdir -p "$cache"
exec 9>"$cache/.systemd-rootfs.lock"
flock 9
if [[ -f $rootfs/.apus-stamp && $(cat "$rootfs/.apus-stamp") == "$stamp" ]]; then
	echo "$rootfs"
	exit 0
fi
command -v debootstrap >/dev/null || { echo "systemd-rootfs: debootstrap is not installed (make deps)" >&2; exit 1; }

work=$(mktemp -d "$cache/.systemd-rootfs.XXXXXX")
trap 'rm -rf --one-file-system "$work"' EXIT
echo "systemd-rootfs: debootstrap $suite into $work (once; takes a few minutes)" >&2
debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,libseccomp2,containerd,podman,conmon,crun,containernetworking-plugins "$suite" "$work/rootfs" "$(mirror)" \
	>"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
r=$work/rootfs
rm -f "$r"/var/cache/apt/archives/*.deb
rm -rf "$r"/var/lib/apt/lists/*
ln -sf /lib/systemd/system/multi-user.target "$r/etc/systemd/system/default.target"
# What cannot work or only adds noise in a container (the tests start their
# own containerd; podman's boot-time units fail there).
for u in getty.target console-getty.service systemd-logind.service e2scrub_reap.service systemd-pstore.service \
	apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer \
	systemd-journald-audit.socket systemd-networkd-wait-online.service \
	containerd.service podman.service podman.socket podman-restart.service podman-auto-update.service \
	podman-auto-update.timer podman-clean-transient.service; do
	ln -sf /dev/null "$r/etc/systemd/system/$u"
done
# systemd would apply the host's name over config.json's.
rm -f "$r/etc/hostname"
# A volatile journal: boots must not mix (boot_id is the host's).
mkdir -p "$r/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\n' >"$r/etc/systemd/journald.conf.d/volatile.conf"
# Mount points for what the test binds in.
mkdir -p "$r/opt/apus-test"
echo "$stamp" >"$r/.apus-stamp"
rm -rf --one-file-system "$rootfs"
mv "$r" "$rootfs"
echo "$rootfs"
