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
    func prepare(cwd: String) throws {
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
        guard let info = try? FS.readString("/proc/self/mountinfo") else { return }
        var best: (point: String, shared: Bool)?
        for line in info.split(separator: "\n") {
            let halves = line.split(separator: " - ", maxSplits: 1)
            let fields = halves.first?.split(separator: " ") ?? []
            guard fields.count >= 6 else { continue }
            let point = Cgroups.unescapeMountPath(String(fields[4]))
            let contains = point == "/" || rootfs == point || rootfs.hasPrefix(point + "/")
            if contains && point.count >= (best?.point.count ?? 0) {
                best = (point, fields[6...].contains { $0.hasPrefix("shared:") })
            }
        }
        if let best, best.shared {
            try mountOrThrow(nil, best.point, nil, UInt(MS_PRIVATE), nil, step: "making the rootfs's parent mount private")
        }
    }

    private func mount(_ m: Mount, index: Int, safe: SafePath) throws {
        var opts = MountOptions(m.options ?? [])
        let type = m.type ?? (opts.isBind ? "bind" : "")
        let step = "mounts[\(index)] (\(m.destination))"
        var source = m.source ?? type
        let isBind = opts.isBind || type == "bind"
        var isDir = true
        if isBind {
            // A relative source is relative to the bundle (runtime-spec).
            source = m.source.map { $0.hasPrefix("/") ? $0 : FS.join(bundle, $0) } ?? ""
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

    /// Steps that need the final root: read-only root, masked and read-only paths.
    /// The root's propagation needs no step here: the rootfs bind copied it
    /// from "/" in prepare(), and per-mount propagation options stay as set.
    func finish() throws {
        for path in spec.linux?.maskedPaths ?? [] { try mask(path) }
        for path in spec.linux?.readonlyPaths ?? [] { try makeReadonly(path) }
        if spec.root?.readonly == true {
            try mountOrThrow(nil, "/", nil, UInt(MS_REMOUNT) | UInt(MS_BIND) | UInt(MS_RDONLY), nil, step: "making the rootfs read-only")
        }
    }

    private func mask(_ path: String) throws {
        var st = stat()
        if stat(path, &st) < 0 {
            if errno == ENOENT { return }
            throw RuntimeError.syscall(step: "masking \(path)", call: "stat(\(path))", errno: errno)
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            try mountOrThrow("tmpfs", path, "tmpfs", UInt(MS_RDONLY), nil, step: "masking \(path)")
        } else {
            try mountOrThrow("/dev/null", path, nil, UInt(MS_BIND), nil, step: "masking \(path)")
        }
    }

    private func makeReadonly(_ path: String) throws {
        if !FS.exists(path) { return }
        try mountOrThrow(path, path, nil, UInt(MS_BIND) | UInt(MS_REC), nil, step: "making \(path) read-only")
        try mountOrThrow(nil, path, nil, UInt(MS_REMOUNT) | UInt(MS_BIND) | UInt(MS_RDONLY) | UInt(MS_REC), nil,
                         step: "making \(path) read-only")
    }
}

func mountOrThrow(_ source: String?, _ target: String, _ type: String?, _ flags: UInt, _ data: String?, step: String) throws {
    if Glibc.mount(source, target, type, flags, data) < 0 {
        let args = [source ?? "", target, type ?? "", "\(flags)"].joined(separator: ", ")
        throw RuntimeError.syscall(step: step, call: "mount(\(args))", errno: errno)
    }
}
