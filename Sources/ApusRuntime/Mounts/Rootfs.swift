import ApusSpec
import CApusShim
import Glibc

/// Builds the container's filesystem view inside its new mount namespace:
/// propagation, the rootfs bind, the spec's mounts, /dev, then pivot_root.
struct Rootfs {
    let spec: Spec
    let bundle: String
    let rootfs: String
    let noPivot: Bool
    let inUserNamespace: Bool
    /// The container's own cgroups (host view), shown at its cgroup mount.
    let cgroupPaths: [String: String]
    let inCgroupNamespace: Bool

    /// Everything that must happen while the host filesystem is still visible.
    /// Returns what finish() needs from the host: the /dev/null that masks files.
    func prepare(cwd: String) throws -> MaskSource {
        // rslave by default, so host mount events reach the container but not the reverse.
        let propagation = try rootPropagation() ?? (UInt(MS_SLAVE) | UInt(MS_REC))
        try mountOrThrow(nil, "/", nil, propagation, nil, step: "setting root mount propagation")
        // The rootfs bind below must not propagate back through a shared parent.
        try makeParentMountPrivate()
        // pivot_root needs the new root to be a mount point.
        try mountOrThrow(rootfs, rootfs, nil, UInt(MS_BIND) | UInt(MS_REC), nil, step: "bind-mounting the rootfs")
        let safe = try SafePath(rootfs: rootfs)
        defer { safe.close() }
        for (i, m) in (spec.mounts ?? []).enumerated() {
            try mount(m, index: i, safe: safe)
        }
        // Like runc, a missing process.cwd is created (inside the rootfs).
        close(try safe.ensure(cwd, directory: true))
        if (spec.mounts ?? []).contains(where: { $0.destination == "/dev" || $0.destination == "/dev/" }) {
            try Devices.populate(spec: spec, safe: safe, bindFromHost: inUserNamespace)
        }
        return try MaskSource.open(needed: !(spec.linux?.maskedPaths ?? []).isEmpty)
    }

    /// linux.rootfsPropagation as mount flags, nil when unset.
    private func rootPropagation() throws -> UInt? {
        guard let p = spec.linux?.rootfsPropagation, !p.isEmpty else { return nil }
        guard let flag = MountOptions.propagation(p) else {
            throw RuntimeError.unsupported(path: "linux.rootfsPropagation", reason: "unknown propagation \"\(p)\"")
        }
        return flag
    }

    /// The mount holding the rootfs directory, made private if it is shared
    /// (as on systemd hosts), as runc does.
    private func makeParentMountPrivate() throws {
        var best: MountEntry?
        for m in MountEntry.current() where m.mountPoint == "/" || rootfs == m.mountPoint || rootfs.hasPrefix(m.mountPoint + "/") {
            if m.mountPoint.count >= (best?.mountPoint.count ?? 0) { best = m }
        }
        if let best, best.isShared {
            try mountOrThrow(nil, best.mountPoint, nil, UInt(MS_PRIVATE), nil, step: "making the rootfs's parent mount private")
        }
    }

    private func mount(_ m: Mount, index: Int, safe: SafePath) throws {
        var opts = MountOptions(m.options ?? [])
        let type = m.type ?? (opts.isBind ? "bind" : "")
        let step = "mounts[\(index)] (\(m.destination))"
        var source = m.source ?? type
        let isBind = ConfigMount.isBind(m)
        var isDir = true
        if isBind {
            // A relative source is relative to the bundle (runtime-spec).
            source = ConfigMount.hostSource(m, bundle: bundle) ?? ""
            var st = stat()
            if stat(source, &st) < 0 {
                throw RuntimeError.syscall(step: "\(step): bind source", call: "stat(\(source))", errno: errno)
            }
            isDir = (st.st_mode & S_IFMT) == S_IFDIR
        }
        if type == "cgroup" || type == "cgroup2" {
            try mountCgroup(m, step: step, safe: safe, opts: opts)
            return
        }
        try Self.checkProcMount(m.destination, type: type, isBind: isBind, step: step)
        if type == "proc" || type == "sysfs" {
            try checkOrdinaryDirectory(m.destination, safe: safe, step: step)
        }
        let target = try safe.ensure(m.destination, directory: isDir)
        defer { close(target) }
        let targetPath = SafePath.procPath(target)
        var flags = opts.flags
        if isBind { flags |= UInt(MS_BIND) }
        let copyUp = type == "tmpfs" && opts.data.contains(TmpCopyUp.option)
        opts.data.removeAll { $0 == TmpCopyUp.option }
        let data = opts.dataString
        try mountOrThrow(source, targetPath, isBind ? nil : type, flags & ~UInt(MS_REMOUNT),
                         data.isEmpty ? nil : data, step: step)
        if copyUp {
            // `target` still names the directory under the new tmpfs.
            guard let mounted = try safe.open(m.destination) else {
                throw RuntimeError.syscall(step: "\(step): tmpcopyup", call: "openat2(\(m.destination))", errno: ENOENT)
            }
            defer { close(mounted) }
            try TmpCopyUp.copy(from: target, to: mounted, what: m.destination)
        }
        if isBind && flags & Self.remountable != 0 {
            try remount(m.destination, flags: flags, safe: safe, step: step)
        }
        if !opts.propagation.isEmpty {
            // As for remounts: reach the new mount, not the directory beneath it.
            guard let mounted = try safe.open(m.destination) else {
                throw RuntimeError.syscall(step: "\(step): propagation", call: "openat2(\(m.destination))", errno: ENOENT)
            }
            defer { close(mounted) }
            for p in opts.propagation {
                try mountOrThrow(nil, SafePath.procPath(mounted), nil, p, nil, step: "\(step): propagation")
            }
        }
    }

    /// procfs and sysfs go only on a real directory reached without any
    /// symlink (CVE-2019-16884, CVE-2019-19921): a symlinked /proc would
    /// put the kernel's files where the rootfs chose, and later writes to
    /// /proc would land elsewhere.
    private func checkOrdinaryDirectory(_ path: String, safe: SafePath, step: String) throws {
        let fd = apus_openat2(safe.rootFD, path, UInt64(APUS_O_PATH | O_CLOEXEC | O_NOFOLLOW), 0,
                              SafePath.resolveInRoot | SafePath.resolveNoMagicLinks | ProcFS.resolveNoSymlinks)
        if fd < 0 {
            if errno == ENOENT { return } // created as a plain directory by ensure()
            if errno == ELOOP {
                throw RuntimeError.unsafe(step: step, reason: "\(path) must be mounted on ordinary directory (the rootfs has a symlink on the way)")
            }
            throw RuntimeError.syscall(step: step, call: "openat2(\(path), RESOLVE_NO_SYMLINKS)", errno: errno)
        }
        defer { close(fd) }
        var st = stat()
        try check(fstat(fd, &st), step, "fstat(\(path))")
        if (st.st_mode & S_IFMT) != S_IFDIR {
            throw RuntimeError.unsafe(step: step, reason: "\(path) must be mounted on ordinary directory (it is not a directory)")
        }
    }

    /// Files of /proc that may be bind-mounted over (as by lxcfs), as in runc.
    static let procBindAllowed: Set<String> = ["/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat",
                                                "/proc/swaps", "/proc/uptime", "/proc/loadavg", "/proc/slabinfo",
                                                "/proc/net/dev", "/proc/sys/kernel/ns_last_pid"]

    /// Nothing may be mounted inside /proc but a procfs on /proc itself and
    /// binds over the files above (runc's rule): a mount planted over
    /// /proc/sys or /proc/self would cover what the kernel exposes there.
    static func checkProcMount(_ destination: String, type: String, isBind: Bool, step: String) throws {
        let dest = FS.clean(destination)
        guard dest == "/proc" || dest.hasPrefix("/proc/") else { return }
        if dest == "/proc" {
            if type == "proc" { return }
            throw RuntimeError.unsafe(step: step, reason: "/proc cannot be mounted as \"\(type)\": only procfs goes there")
        }
        if isBind && procBindAllowed.contains(dest) { return }
        throw RuntimeError.unsafe(step: step, reason: "\(dest) cannot be mounted because it is inside /proc")
    }

    static let remountable = UInt(MS_RDONLY) | UInt(MS_NOSUID) | UInt(MS_NODEV) | UInt(MS_NOEXEC)
        | UInt(MS_NOATIME) | UInt(MS_NODIRATIME) | UInt(MS_RELATIME) | UInt(MS_STRICTATIME)

    /// A bind mount ignores most flags until it is remounted. The fd used
    /// for the first mount names the directory underneath, so reopen the
    /// path to reach the new mount's root.
    private func remount(_ path: String, flags: UInt, safe: SafePath, step: String) throws {
        guard let fd = try safe.open(path) else {
            throw RuntimeError.syscall(step: "\(step): remount", call: "openat2(\(path))", errno: ENOENT)
        }
        defer { close(fd) }
        try mountOrThrow(nil, SafePath.procPath(fd), nil, UInt(MS_REMOUNT) | UInt(MS_BIND) | (flags & Self.remountable),
                         nil, step: "\(step): remount")
    }

    /// A cgroup mount shows the container its own cgroup: a fresh cgroup2
    /// mount in a cgroup namespace (which roots it there), otherwise binds of
    /// the container's cgroup directories (v1: on a tmpfs, one per hierarchy).
    private func mountCgroup(_ m: Mount, step: String, safe: SafePath, opts: MountOptions) throws {
        let hierarchies = Cgroups.hierarchies()
        let flags = opts.flags | UInt(MS_NOSUID) | UInt(MS_NOEXEC) | UInt(MS_NODEV)
        if Cgroups.layout(hierarchies) == .v2 {
            let target = try safe.ensure(m.destination, directory: true)
            defer { close(target) }
            if inCgroupNamespace {
                try mountOrThrow("cgroup2", SafePath.procPath(target), "cgroup2", flags, nil, step: step)
            } else {
                try mountOrThrow(cgroupPaths["unified"] ?? "", SafePath.procPath(target), nil, UInt(MS_BIND) | UInt(MS_REC), nil, step: step)
                try remount(m.destination, flags: flags, safe: safe, step: step)
            }
            return
        }
        let target = try safe.ensure(m.destination, directory: true)
        try mountOrThrow("tmpfs", SafePath.procPath(target), "tmpfs", UInt(MS_NOSUID) | UInt(MS_NOEXEC) | UInt(MS_NODEV), "mode=755", step: step)
        close(target)
        for h in hierarchies {
            let name = h.key == "unified" ? "unified" : String(h.key.split(separator: "=").last ?? "")
            let sub = try safe.ensure(FS.join(m.destination, name), directory: true)
            defer { close(sub) }
            guard let source = cgroupPaths[h.key] else { continue }
            try mountOrThrow(source, SafePath.procPath(sub), nil, UInt(MS_BIND) | UInt(MS_REC), nil, step: "\(step): \(name)")
            try remount(FS.join(m.destination, name), flags: flags, safe: safe, step: "\(step): \(name)")
        }
    }

    /// Switches into the rootfs: pivot_root(".", ".") then detaching the old
    /// root, which leaves no host mount reachable. --no-pivot uses MS_MOVE + chroot.
    func enter() throws {
        try check(chdir(rootfs), "entering the rootfs", "chdir(\(rootfs))")
        if noPivot {
            try hideHostKernelFilesystems()
            try mountOrThrow(rootfs, "/", nil, UInt(MS_MOVE), nil, step: "moving the rootfs to /")
            try check(chroot("."), "entering the rootfs", "chroot(.)")
        } else {
            let oldRoot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC)
            try check(oldRoot, "entering the rootfs", "open(/)")
            defer { close(oldRoot) }
            try check(apus_pivot_root(".", "."), "entering the rootfs", "pivot_root(\(rootfs))")
            // The old root is now stacked on "/". Step into it (a plain "."
            // would name the new root), make it a slave so the detach does
            // not propagate to the host, then drop it.
            try check(fchdir(oldRoot), "detaching the old root", "fchdir(old root)")
            try mountOrThrow(nil, ".", nil, UInt(MS_SLAVE) | UInt(MS_REC), nil, step: "isolating the old root")
            try check(umount2(".", Int32(MNT_DETACH)), "detaching the old root", "umount2(., MNT_DETACH)")
        }
        try check(chdir("/"), "entering the rootfs", "chdir(/)")
    }

    /// --no-pivot leaves the host's mounts in the container's mount namespace,
    /// out of sight behind chroot but still counted by the kernel: a fully
    /// visible host procfs or sysfs there lets a nested user namespace mount
    /// a fresh, unmasked one. Detach every procfs/sysfs outside the rootfs
    /// first (or cover it where it cannot be detached), as runc does.
    private func hideHostKernelFilesystems() throws {
        let outside = MountEntry.current().filter { m in
            (m.fsType == "proc" || m.fsType == "sysfs")
                && m.mountPoint != rootfs && !m.mountPoint.hasPrefix(rootfs.hasSuffix("/") ? rootfs : rootfs + "/")
        }
        // Deepest first, so a parent's detach does not leave its children counted.
        for m in outside.sorted(by: { $0.mountPoint.count > $1.mountPoint.count }) {
            if umount2(m.mountPoint, Int32(MNT_DETACH)) == 0 || errno == EINVAL || errno == ENOENT { continue }
            try mountOrThrow("tmpfs", m.mountPoint, "tmpfs", UInt(MS_RDONLY) | UInt(MS_NOSUID) | UInt(MS_NODEV) | UInt(MS_NOEXEC),
                             "size=0", step: "covering the host's \(m.mountPoint) (--no-pivot)")
        }
    }

    /// Steps that need the final root: read-only root, masked and read-only paths.
    /// The root's propagation needs no step here: the rootfs bind copied it
    /// from "/" in prepare(), and per-mount propagation options stay as set.
    /// Every target is resolved inside the new root (RESOLVE_IN_ROOT, no
    /// magic links) and mounted on by fd, so no symlink in the rootfs can
    /// send a mask or a read-only bind elsewhere (CVE-2025-31133 class).
    func finish(masks: inout MaskSource) throws {
        let safe = try SafePath(rootfs: "/")
        defer { safe.close() }
        for path in spec.linux?.maskedPaths ?? [] { try mask(path, safe: safe, masks: &masks) }
        for path in spec.linux?.readonlyPaths ?? [] { try makeReadonly(path, safe: safe) }
        if spec.root?.readonly == true {
            try mountOrThrow(nil, "/", nil, UInt(MS_REMOUNT) | UInt(MS_BIND) | UInt(MS_RDONLY), nil, step: "making the rootfs read-only")
        }
    }

    private func mask(_ path: String, safe: SafePath, masks: inout MaskSource) throws {
        let step = "masking \(path)"
        guard let target = try safe.open(path) else { return }
        defer { close(target) }
        var st = stat()
        try check(fstat(target, &st), step, "fstat(\(path))")
        let mount: Int32
        if (st.st_mode & S_IFMT) == S_IFDIR {
            mount = apus_fsmount_new("tmpfs", nil, nil, 0, MountFD.rdonly | MountFD.nosuid | MountFD.nodev | MountFD.noexec)
            try check(mount, step, "fsopen(tmpfs) + fsmount(MOUNT_ATTR_RDONLY)")
        } else {
            mount = try masks.cloneDevNull(step: step)
        }
        defer { close(mount) }
        try check(apus_move_mount_fd(mount, target), step, "move_mount(\(path))")
    }

    /// A recursive bind of the path onto itself, read-only all the way down.
    private func makeReadonly(_ path: String, safe: SafePath) throws {
        let step = "making \(path) read-only"
        guard let target = try safe.open(path) else { return }
        defer { close(target) }
        let tree = apus_open_tree(target, "", MountFD.clone | MountFD.recursive | MountFD.emptyPath | UInt32(O_CLOEXEC))
        try check(tree, step, "open_tree(\(path), OPEN_TREE_CLONE|AT_RECURSIVE)")
        defer { close(tree) }
        try check(apus_mount_setattr_fd(tree, 1, MountFD.rdonly, 0), step, "mount_setattr(\(path), MOUNT_ATTR_RDONLY)")
        try check(apus_move_mount_fd(tree, target), step, "move_mount(\(path))")
    }
}

/// Constants of the new mount API (linux/mount.h, fcntl.h).
enum MountFD {
    static let clone: UInt32 = 1 // OPEN_TREE_CLONE
    static let recursive: UInt32 = 0x8000 // AT_RECURSIVE
    static let emptyPath: UInt32 = 0x1000 // AT_EMPTY_PATH
    static let rdonly: UInt64 = 0x1, nosuid: UInt64 = 0x2, nodev: UInt64 = 0x4, noexec: UInt64 = 0x8
}

/// The host's /dev/null, taken before pivot_root as a detached mount and
/// checked to be the null device (character 1:3): masked files are bound
/// to clones of it, never to whatever the rootfs calls /dev/null.
struct MaskSource {
    private var fd: Int32 = -1
    /// The first mask moves `fd` itself into place; later ones clone it
    /// there (an attached mount can always be cloned).
    private var used = false

    static func open(needed: Bool) throws -> MaskSource {
        var source = MaskSource()
        guard needed else { return source }
        let step = "opening /dev/null for maskedPaths"
        let fd = apus_open_tree(AT_FDCWD, "/dev/null", MountFD.clone | UInt32(O_CLOEXEC))
        try check(fd, step, "open_tree(/dev/null, OPEN_TREE_CLONE)")
        var st = stat()
        if fstat(fd, &st) < 0 || (st.st_mode & S_IFMT) != S_IFCHR || st.st_rdev != makedev(1, 3) {
            Glibc.close(fd)
            throw RuntimeError.unsafe(step: step, reason: "the host's /dev/null is not the null device (character 1:3)")
        }
        source.fd = fd
        return source
    }

    mutating func cloneDevNull(step: String) throws -> Int32 {
        guard fd >= 0 else { throw RuntimeError.unsafe(step: step, reason: "no /dev/null was prepared") }
        let copy = apus_open_tree(fd, "", MountFD.clone | MountFD.emptyPath | UInt32(O_CLOEXEC))
        if copy >= 0 { return copy }
        guard !used else { throw RuntimeError.syscall(step: step, call: "open_tree(/dev/null, OPEN_TREE_CLONE)", errno: errno) }
        // Kernels before 6.15 cannot clone a detached mount: move the
        // original into place (through a duplicate: `fd` then names an
        // attached mount, which later masks can clone).
        used = true
        let dup = fcntl(fd, F_DUPFD_CLOEXEC, 3)
        try check(dup, step, "fcntl(F_DUPFD_CLOEXEC)")
        return dup
    }

    func close() { if fd >= 0 { _ = Glibc.close(fd) } }
}

func mountOrThrow(_ source: String?, _ target: String, _ type: String?, _ flags: UInt, _ data: String?, step: String) throws {
    if Glibc.mount(source, target, type, flags, data) < 0 {
        let args = [source ?? "", target, type ?? "", "\(flags)"].joined(separator: ", ")
        throw RuntimeError.syscall(step: step, call: "mount(\(args))", errno: errno)
    }
}
