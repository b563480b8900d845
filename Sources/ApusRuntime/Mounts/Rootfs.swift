import ApusSpec
import CApusShim
import Glibc

/// Builds the container's filesystem view inside its new mount namespace:
/// propagation, the rootfs bind, the spec's mounts, /dev, then pivot_root.
struct Rootfs {
    let spec: Spec
    let rootfs: String
    let noPivot: Bool
    let inUserNamespace: Bool
    /// The container's own cgroups (host view), shown at its cgroup mount.
    let cgroupPaths: [String: String]
    let cgroupHierarchies: [Cgroups.Hierarchy]
    let inCgroupNamespace: Bool

    /// What prepare() leaves for finish(): the host's /dev/null that masks
    /// files, and the mounts (a tmpfs, /dev) that turn read-only last, after
    /// the console and the masks are in place (runc's order).
    struct Pending {
        var masks = MaskSource()
        var readOnly = LateReadOnly()

        func close() {
            masks.close()
            readOnly.close()
        }
    }

    /// Everything that must happen while the host filesystem is still visible.
    /// `sources` are the bind mounts `create` prepared (MountSources).
    /// `inCallerNamespace`: the container has no mount namespace of its own
    /// and its mounts go to the caller's (as runc does): nothing outside the
    /// rootfs bind is touched, and that bind is private, so what is mounted
    /// under it stays there and one detach (CallerNamespaceMounts) removes it.
    func prepare(cwd: String, sources: MountSources, inCallerNamespace: Bool = false) throws -> Pending {
        let explicit = try rootPropagation()
        if !inCallerNamespace {
            // rslave by default, so host mount events reach the container but not the reverse.
            // An unbindable "/" could not be bound below: the rootfs gets it after entering it.
            let rslave = UInt64(MS_SLAVE) | UInt64(MS_REC)
            let propagation = explicit.map { $0 & UInt64(MS_UNBINDABLE) != 0 ? rslave : $0 } ?? rslave
            try mountOrThrow(nil, "/", nil, UInt(propagation), nil, step: "setting root mount propagation")
            // The rootfs bind below must not propagate back through a shared
            // parent. After a recursive slave or private, no mount is shared
            // (a shared one became a slave or private): nothing to look up.
            let rec = UInt64(MS_REC), unshared = UInt64(MS_SLAVE) | UInt64(MS_PRIVATE)
            if propagation & rec == 0 || propagation & unshared == 0 { try makeParentMountPrivate() }
        }
        // pivot_root needs the new root to be a mount point.
        try mountOrThrow(rootfs, rootfs, nil, UInt(MS_BIND) | UInt(MS_REC), nil, step: "bind-mounting the rootfs")
        if inCallerNamespace {
            try mountOrThrow(nil, rootfs, nil, UInt(MS_PRIVATE) | UInt(MS_REC), nil, step: "making the rootfs bind private")
        }
        let safe = try SafePath(rootfs: rootfs)
        defer { safe.close() }
        var mounts = SpecMounts(safe: safe, sources: sources, rootPropagation: explicit,
                                cgroupPaths: cgroupPaths, cgroupHierarchies: cgroupHierarchies, inCgroupNamespace: inCgroupNamespace)
        defer { mounts.close() }
        mounts.mountLabel = spec.linux?.mountLabel
        let requests = (spec.mounts ?? []).enumerated().map { MountRequest($0.element, index: $0.offset) }
        for r in requests { try mounts.make(r) }
        // Like runc, a missing process.cwd is created (inside the rootfs).
        close(try safe.ensure(cwd, directory: true))
        if requests.contains(where: { FS.clean($0.destination) == "/dev" }) {
            try Devices.populate(spec: spec, safe: safe, bindFromHost: inUserNamespace)
        }
        var pending = Pending(readOnly: mounts.takeReadOnly())
        do {
            pending.masks = try MaskSource.open(needed: !(spec.linux?.maskedPaths ?? []).isEmpty)
        } catch {
            pending.close()
            throw error
        }
        return pending
    }

    /// linux.rootfsPropagation as mount flags, nil when unset.
    private func rootPropagation() throws -> UInt64? {
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

    /// linux.rootfsPropagation "shared" or "unbindable" for the container's
    /// root mount itself, once it is "/" and set up: before, the rootfs bind is private
    /// (its parent was made so) or could not be made (an unbindable source),
    /// and pivot_root refuses a shared new root. Only "/" itself: the spec's
    /// mounts have theirs already (SpecMounts). A shared root is a peer
    /// group of its own, with nothing on the host.
    private func setOwnRootPropagation() throws {
        guard let p = try rootPropagation() else { return }
        let own = p & (UInt64(MS_SHARED) | UInt64(MS_UNBINDABLE))
        guard own != 0 else { return }
        try mountOrThrow(nil, "/", nil, UInt(own), nil, step: "setting the root's propagation (linux.rootfsPropagation)")
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

    /// Steps that need the final root: masked and read-only paths, the late
    /// read-only mounts, read-only root.
    /// The root's propagation: the rootfs bind copied it from "/" in
    /// prepare() (shared and unbindable are set last, setOwnRootPropagation),
    /// and per-mount propagation options stay as set.
    /// Every target is resolved inside the new root (RESOLVE_IN_ROOT, no
    /// magic links) and mounted on by fd, so no symlink in the rootfs can
    /// send a mask or a read-only bind elsewhere (CVE-2025-31133 class).
    func finish(_ pending: inout Pending) throws {
        let safe = try SafePath(rootfs: "/")
        defer { safe.close() }
        for path in spec.linux?.maskedPaths ?? [] { try mask(path, safe: safe, masks: &pending.masks) }
        for path in spec.linux?.readonlyPaths ?? [] { try makeReadonly(path, safe: safe) }
        // "ro" on /dev or a tmpfs, now that everything beneath (/dev/console too) is made.
        try pending.readOnly.apply()
        if spec.root?.readonly == true {
            try mountOrThrow(nil, "/", nil, UInt(MS_REMOUNT) | UInt(MS_BIND) | UInt(MS_RDONLY), nil, step: "making the rootfs read-only")
        }
        // Last: read-only paths on the root are clones of it (an unbindable one has none).
        try setOwnRootPropagation()
    }

    private func mask(_ path: String, safe: SafePath, masks: inout MaskSource) throws {
        let step = "masking \(path)"
        guard let target = try safe.open(path) else { return }
        defer { close(target) }
        var st = stat()
        try check(fstat(target, &st), step, "fstat(\(path))")
        let mount: Int32
        if (st.st_mode & S_IFMT) == S_IFDIR {
            mount = try SpecMounts.newFilesystem("tmpfs", source: "tmpfs", attrs: MountFD.rdonly | MountFD.nosuid | MountFD.nodev | MountFD.noexec,
                                                 step: step)
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
