import ApusSpec
import CApusShim
import Glibc

/// The bind mounts, made on the host side by `apus create` before the
/// container exists, as runc does: each source is cloned with
/// open_tree(OPEN_TREE_CLONE) (so a source the container's root could not
/// reach, in a user namespace, still works), and its propagation, id
/// mapping and attributes are set on the detached tree. The container's
/// init inherits the fds and only moves each tree onto its destination,
/// resolved inside the rootfs.
struct MountSources {
    /// Detached mount trees by spec mount index.
    private(set) var trees: [Int: Int32] = [:]

    var fds: [Int32] { trees.keys.sorted().compactMap { trees[$0] } }

    func close() { for fd in trees.values { _ = Glibc.close(fd) } }

    /// The tree for mount `index`, now the caller's to close.
    mutating func take(_ index: Int) -> Int32? { trees.removeValue(forKey: index) }

    static func prepare(_ spec: Spec, bundle: String, namespaces: NamespacePlan) throws -> MountSources {
        var sources = MountSources()
        var userns = IDMapNamespaces(spec: spec, namespaces: namespaces)
        defer { userns.close() }
        do {
            for (i, m) in (spec.mounts ?? []).enumerated() {
                let r = MountRequest(m, index: i)
                guard r.kind == .bind, !r.options.remount else { continue }
                sources.trees[i] = try tree(r, bundle: bundle, userns: &userns)
            }
        } catch {
            sources.close()
            throw error
        }
        return sources
    }

    private static func tree(_ r: MountRequest, bundle: String, userns: inout IDMapNamespaces) throws -> Int32 {
        let step = "mounts[\(r.index)] (\(r.mount.destination))"
        // A relative source is relative to the bundle (runtime-spec).
        let source = ConfigMount.hostSource(r.mount, bundle: bundle) ?? ""
        var flags = MountFD.clone | UInt32(O_CLOEXEC)
        if r.options.recursive { flags |= MountFD.recursive }
        let fd = apus_open_tree(AT_FDCWD, source, flags)
        try check(fd, "\(step): bind source", "open_tree(\(source), OPEN_TREE_CLONE\(r.options.recursive ? "|AT_RECURSIVE" : ""))")
        do {
            // A clone of a shared host mount would be its peer: make it a
            // slave, as the container's own copy of the host's mounts is.
            try MountFD.setAttrs(fd, MountAttrs(), recursive: true, propagation: UInt64(MS_SLAVE), step: step, what: source)
            if r.isIDMapped { try idmap(fd, r, source: source, step: step, userns: &userns) }
            try MountFD.setAttrs(fd, r.options.attrs, recursive: false, step: step, what: source)
            try MountFD.setAttrs(fd, r.options.recursiveAttrs, recursive: true, step: step, what: source)
        } catch {
            Glibc.close(fd)
            throw error
        }
        return fd
    }

    private static func idmap(_ fd: Int32, _ r: MountRequest, source: String, step: String, userns: inout IDMapNamespaces) throws {
        let ns = try userns.fd(for: r)
        let recursive = r.options.idmap == .recursive
        if apus_mount_setattr(fd, recursive ? 1 : 0, MountFD.idmap, 0, 0, ns) < 0 {
            let err = errno
            if err == EINVAL {
                throw RuntimeError.unsafe(step: "\(step): id-mapping \(source)",
                                          reason: "mount_setattr(MOUNT_ATTR_IDMAP): Invalid argument (the filesystem cannot be id-mapped on this kernel, or is id-mapped already)")
            }
            throw RuntimeError.syscall(step: "\(step): id-mapping \(source)", call: "mount_setattr(MOUNT_ATTR_IDMAP\(recursive ? ", AT_RECURSIVE" : ""))", errno: err)
        }
    }
}

/// User namespaces carrying the id mappings of id-mapped mounts: the
/// mount's own uidMappings/gidMappings, else the container's (the user
/// namespace it joins by path, or a new one with linux.uidMappings). A
/// mapping is a property of its user namespace alone, so a throwaway one
/// with the same maps serves (runc and crun do the same). One per mapping.
struct IDMapNamespaces {
    let spec: Spec
    let namespaces: NamespacePlan
    private var cache: [String: Int32] = [:]

    init(spec: Spec, namespaces: NamespacePlan) {
        self.spec = spec
        self.namespaces = namespaces
    }

    func close() { for fd in cache.values { _ = Glibc.close(fd) } }

    mutating func fd(for r: MountRequest) throws -> Int32 {
        let step = "mounts[\(r.index)] (\(r.mount.destination)): id mapping"
        if r.mount.uidMappings == nil, let path = namespaces.join.first(where: { $0.type == .user })?.path {
            if let fd = cache[path] { return fd }
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            try check(fd, step, "open(\(path))")
            cache[path] = fd
            return fd
        }
        let uid = r.mount.uidMappings ?? spec.linux?.uidMappings
        let gid = r.mount.gidMappings ?? spec.linux?.gidMappings
        let key = IDMaps.mapText(uid) + "/" + IDMaps.mapText(gid)
        if let fd = cache[key] { return fd }
        let fd = try Self.create(uid: uid, gid: gid, step: step)
        cache[key] = fd
        return fd
    }

    /// A child unshares a user namespace, we write its maps and keep
    /// /proc/<child>/ns/user, then the child is killed.
    private static func create(uid: [IDMapping]?, gid: [IDMapping]?, step: String) throws -> Int32 {
        try SealedExecutable.assertSingleThreaded()
        let pid = apus_userns_child()
        try check(pid, step, "fork + unshare(CLONE_NEWUSER)")
        defer {
            kill(pid, SIGKILL)
            while waitpid(pid, nil, 0) < 0 && errno == EINTR {}
        }
        try IDMaps.write(pid: pid, uid: uid, gid: gid)
        let proc = try ProcFS.host()
        defer { proc.close() }
        let dir = try proc.open("\(pid)/ns", O_RDONLY | O_DIRECTORY)
        defer { Glibc.close(dir) }
        let fd = openat(dir, "user", O_RDONLY | O_CLOEXEC)
        try check(fd, step, "open(/proc/\(pid)/ns/user)")
        return fd
    }
}
