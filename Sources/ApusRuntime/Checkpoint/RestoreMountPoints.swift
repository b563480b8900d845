import ApusSpec
import CApusShim
import Glibc

/// A recursive bind of the rootfs at a directory of the container's state
/// (CRIU's root, or the scratch copy the mount points are made in);
/// removed with everything mounted below it.
struct RootfsBind {
    let path: String

    /// `isPrivate`: nothing mounted below it propagates to the host's mounts.
    static func make(_ rootfs: String, at path: String, isPrivate: Bool = false) throws -> RootfsBind {
        try check(mkdir(path, 0o755), "restoring", "mkdir(\(path))")
        let bind = RootfsBind(path: path)
        do {
            try check(mount(rootfs, path, nil, UInt(MS_BIND | MS_REC), nil), "restoring", "mount(\(rootfs), \(path), MS_BIND|MS_REC)")
            if isPrivate { try check(mount(nil, path, nil, UInt(MS_PRIVATE | MS_REC), nil), "restoring", "mount(\(path), MS_PRIVATE|MS_REC)") }
        } catch {
            bind.remove()
            throw error
        }
        return bind
    }

    func remove() {
        umount2(path, Int32(MNT_DETACH))
        rmdir(path)
    }
}

/// The mount points CRIU needs but does not make (runc's
/// prepareCriuRestoreMounts): each mount's destination, made as create
/// made it, in a private scratch bind of the rootfs where each bind is
/// mounted in turn (a private clone of its source). So the destination of a
/// bind inside another bind is made in the outer bind's source, where CRIU
/// looks for it. Mounts under a tmpfs are left (CRIU restores the tmpfs
/// with its content), as are cgroup mounts (CRIU's own); the scratch bind
/// is gone before CRIU starts.
enum RestoreMountPoints {
    static func make(_ spec: Spec, bundle: String, rootfs: String, scratch path: String) throws {
        let scratch = try RootfsBind.make(rootfs, at: path, isPrivate: true)
        defer { scratch.remove() }
        let root = try SafePath(rootfs: path)
        defer { root.close() }
        let requests = (spec.mounts ?? []).enumerated().map { MountRequest($1, index: $0) }
        let tmpfs = requests.filter { $0.type == "tmpfs" }.map { FS.clean($0.destination) }
        for r in requests where r.kind != .cgroup && !r.options.remount && !under(r.destination, tmpfs) {
            try make(r, bundle: bundle, in: root)
        }
    }

    /// `destination` lies strictly below one of `dirs` (clean paths).
    static func under(_ destination: String, _ dirs: [String]) -> Bool {
        let d = FS.clean(destination)
        return dirs.contains { d != $0 && d.hasPrefix($0 == "/" ? "/" : $0 + "/") }
    }

    private static func make(_ r: MountRequest, bundle: String, in root: SafePath) throws {
        let step = "restoring: the mount point of mounts[\(r.index)] (\(r.mount.destination))"
        try SpecMounts.checkProcMount(r.destination, type: r.type, isBind: r.kind == .bind, step: step)
        guard r.kind == .bind else {
            Glibc.close(try root.ensure(r.destination, directory: true))
            return
        }
        let tree = try privateClone(ConfigMount.hostSource(r.mount, bundle: bundle) ?? "", step: step)
        defer { Glibc.close(tree) }
        var st = stat()
        try check(fstat(tree, &st), step, "fstat(bind source)")
        let target = try root.ensure(r.destination, directory: st.st_mode & S_IFMT == S_IFDIR)
        defer { Glibc.close(target) }
        try MountFD.move(tree, onto: target, step: step, what: r.mount.destination)
    }

    /// A detached recursive clone of `source`, private: the mounts made
    /// below it stay out of the host's peer groups.
    private static func privateClone(_ source: String, step: String) throws -> Int32 {
        let tree = apus_open_tree(AT_FDCWD, source, MountFD.clone | MountFD.recursive | UInt32(O_CLOEXEC))
        try check(tree, step, "open_tree(\(source), OPEN_TREE_CLONE|AT_RECURSIVE)")
        do {
            try MountFD.setPropagation(tree, UInt64(MS_PRIVATE | MS_REC), step: step, what: source)
        } catch {
            Glibc.close(tree)
            throw error
        }
        return tree
    }
}
