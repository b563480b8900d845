import ApusSpec
import CApusShim
import Glibc

/// The spec's mounts, made by the container init before pivot_root. Each
/// destination is resolved inside the rootfs (SafePath) and every mount
/// is made detached and moved onto that fd: bind trees prepared by
/// `create` (MountSources), new filesystems from fsopen/fsmount, cgroup
/// trees cloned here. Propagation, tmpcopyup and the late "ro" work on the
/// mount's own fd, so no destination is ever resolved a second time.
struct SpecMounts {
    /// linux.mountLabel: the SELinux context of the new filesystems.
    var mountLabel: String?
    let safe: SafePath
    var sources: MountSources
    /// linux.rootfsPropagation when set: bind trees follow it as the rest
    /// of the container's mounts do (without it they are already slaves).
    let rootPropagation: UInt64?
    let cgroupPaths: [String: String]
    /// The host's cgroup hierarchies, as `create` read them.
    let cgroupHierarchies: [Cgroups.Hierarchy]
    let inCgroupNamespace: Bool
    /// New filesystems whose "ro" waits until everything beneath is made.
    private var readOnlyLater = LateReadOnly()

    init(safe: SafePath, sources: MountSources, rootPropagation: UInt64?, cgroupPaths: [String: String],
         cgroupHierarchies: [Cgroups.Hierarchy], inCgroupNamespace: Bool) {
        self.safe = safe
        self.sources = sources
        self.rootPropagation = rootPropagation
        self.cgroupPaths = cgroupPaths
        self.cgroupHierarchies = cgroupHierarchies
        self.inCgroupNamespace = inCgroupNamespace
    }

    mutating func make(_ r: MountRequest) throws {
        let step = "mounts[\(r.index)] (\(r.mount.destination))"
        if r.kind != .cgroup { try Self.checkProcMount(r.destination, type: r.type, isBind: r.kind == .bind, step: step) }
        if r.options.remount { return try remount(r, step: step) }
        switch r.kind {
        case .bind: try moveBind(r, step: step)
        case .cgroup: try mountCgroup(r, step: step)
        case .filesystem: try mountFilesystem(r, step: step)
        }
    }

    /// The mounts whose "ro" waits, now the caller's (Rootfs.finish).
    mutating func takeReadOnly() -> LateReadOnly {
        defer { readOnlyLater = LateReadOnly() }
        return readOnlyLater
    }

    mutating func close() {
        readOnlyLater.close()
        readOnlyLater = LateReadOnly()
        sources.close()
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

    // MARK: - bind

    private mutating func moveBind(_ r: MountRequest, step: String) throws {
        guard let tree = sources.take(r.index) else { throw RuntimeError.other("\(step): no bind source was prepared") }
        defer { Glibc.close(tree) }
        var st = stat()
        try check(fstat(tree, &st), step, "fstat(bind source)")
        let target = try safe.ensure(r.destination, directory: (st.st_mode & S_IFMT) == S_IFDIR)
        defer { Glibc.close(target) }
        try MountFD.move(tree, onto: target, step: step, what: r.mount.destination)
        if let p = rootPropagation, p & ~UInt64(MS_REC) != UInt64(MS_SLAVE) {
            try MountFD.setPropagation(tree, p, step: step, what: r.mount.destination)
        }
        for p in r.options.propagation { try MountFD.setPropagation(tree, p, step: step, what: r.mount.destination) }
    }

    // MARK: - new filesystems

    private mutating func mountFilesystem(_ r: MountRequest, step: String) throws {
        if r.type == "proc" || r.type == "sysfs" { try checkOrdinaryDirectory(r.destination, step: step) }
        let existed = try r.options.copyUp && safe.open(r.destination).map { Glibc.close($0) } != nil
        let target = try safe.ensure(r.destination, directory: true)
        defer { Glibc.close(target) }
        var attrs = r.options.ownAttrs
        let readOnly = attrs.set & MountFD.rdonly != 0
        let later = readOnly && r.defersReadOnly
        if later { attrs.set &= ~MountFD.rdonly }
        // A read-only filesystem is read-only in its superblock too, as mount(2) makes it.
        let flags = r.options.superblock + (readOnly && !later ? ["ro"] : [])
        let mount = try Self.newFilesystem(r.type, source: r.mount.source ?? r.type, flags: flags,
                                           data: r.options.data + LSM.mountData(mountLabel, type: r.type),
                                           attrs: attrs.set, step: step)
        var kept = false
        defer { if !kept { Glibc.close(mount) } }
        // `target` still names the directory the tmpfs will cover.
        if r.options.copyUp {
            let inherit = TmpCopyUp.Inherit(data: r.options.data, directoryExisted: existed)
            try TmpCopyUp.copy(from: target, to: mount, inherit: inherit, what: r.mount.destination)
        }
        try MountFD.move(mount, onto: target, step: step, what: r.mount.destination)
        for p in r.options.propagation { try MountFD.setPropagation(mount, p, step: step, what: r.mount.destination) }
        if later {
            readOnlyLater.mounts.append((mount, step))
            kept = true
        }
    }

    /// A detached mount of a new filesystem instance: fsopen, one fsconfig
    /// per flag and data option ("key=value" or a bare flag), fsmount with
    /// the mount attributes. The filesystem's own message, if it gives one,
    /// ends up in the error.
    static func newFilesystem(_ type: String, source: String?, flags: [String] = [], data: [String] = [],
                              attrs: UInt64, step: String) throws -> Int32 {
        let fs = apus_fsopen(type)
        try check(fs, step, "fsopen(\(type))")
        defer { Glibc.close(fs) }
        if let source, !source.isEmpty { try configure(fs, key: "source", value: source, type: type, step: step) }
        try configure(fs, flags: flags, data: data, type: type, step: step)
        let mount = apus_fsmount_create(fs, attrs)
        if mount < 0 { throw failure(fs, step: step, call: "fsmount(\(type), \(MountFD.describe(MountAttrs(set: attrs))))") }
        return mount
    }

    private static func configure(_ fs: Int32, flags: [String], data: [String], type: String, step: String) throws {
        for f in flags { try configure(fs, key: f, value: nil, type: type, step: step) }
        for d in data {
            if let eq = d.firstIndex(of: "=") {
                try configure(fs, key: String(d[..<eq]), value: String(d[d.index(after: eq)...]), type: type, step: step)
            } else {
                try configure(fs, key: d, value: nil, type: type, step: step)
            }
        }
    }

    private static func configure(_ fs: Int32, key: String, value: String?, type: String, step: String) throws {
        if apus_fsconfig(fs, key, value) < 0 {
            throw failure(fs, step: step, call: "fsconfig(\(type), \(value.map { "\(key)=\($0)" } ?? key))")
        }
    }

    private static func failure(_ fs: Int32, step: String, call: String) -> RuntimeError {
        let err = errno
        var buf = [CChar](repeating: 0, count: 256)
        if apus_fs_log(fs, &buf, buf.count) == 1 {
            return .syscall(step: step, call: "\(call) [\(String(cString: buf))]", errno: err)
        }
        return .syscall(step: step, call: call, errno: err)
    }

    /// procfs and sysfs go only on a real directory reached without any
    /// symlink (CVE-2019-16884, CVE-2019-19921): a symlinked /proc would
    /// put the kernel's files where the rootfs chose, and later writes to
    /// /proc would land elsewhere.
    private func checkOrdinaryDirectory(_ path: String, step: String) throws {
        let fd = apus_openat2(safe.rootFD, path, UInt64(APUS_O_PATH | O_CLOEXEC | O_NOFOLLOW), 0,
                              SafePath.resolveInRoot | SafePath.resolveNoMagicLinks | ProcFS.resolveNoSymlinks)
        if fd < 0 {
            if errno == ENOENT { return } // created as a plain directory by ensure()
            if errno == ELOOP {
                throw RuntimeError.unsafe(step: step, reason: "\(path) must be mounted on ordinary directory (the rootfs has a symlink on the way)")
            }
            throw RuntimeError.syscall(step: step, call: "openat2(\(path), RESOLVE_NO_SYMLINKS)", errno: errno)
        }
        defer { Glibc.close(fd) }
        var st = stat()
        try check(fstat(fd, &st), step, "fstat(\(path))")
        if (st.st_mode & S_IFMT) != S_IFDIR {
            throw RuntimeError.unsafe(step: step, reason: "\(path) must be mounted on ordinary directory (it is not a directory)")
        }
    }

    // MARK: - remount

    /// "remount": the options change the mount already at the destination
    /// (its attributes with mount_setattr, its filesystem's options with
    /// fspick + reconfigure); nothing new is mounted.
    private func remount(_ r: MountRequest, step: String) throws {
        let step = "\(step): remount"
        guard let fd = try safe.open(r.destination) else {
            throw RuntimeError.syscall(step: step, call: "openat2(\(r.destination))", errno: ENOENT)
        }
        defer { Glibc.close(fd) }
        if !r.options.superblock.isEmpty || !r.options.data.isEmpty {
            let fs = apus_fspick(fd)
            try check(fs, step, "fspick(\(r.destination))")
            defer { Glibc.close(fs) }
            try Self.configure(fs, flags: r.options.superblock, data: r.options.data, type: r.type, step: step)
            if apus_fs_reconfigure(fs) < 0 { throw Self.failure(fs, step: step, call: "fsconfig(\(r.destination), FSCONFIG_CMD_RECONFIGURE)") }
        }
        try MountFD.setAttrs(fd, r.options.attrs, recursive: false, step: step, what: r.mount.destination)
        try MountFD.setAttrs(fd, r.options.recursiveAttrs, recursive: true, step: step, what: r.mount.destination)
        for p in r.options.propagation { try MountFD.setPropagation(fd, p, step: step, what: r.mount.destination) }
    }

    // MARK: - cgroup

    /// A cgroup mount shows the container its own cgroup: a fresh cgroup2
    /// mount in a cgroup namespace (which roots it there), otherwise clones
    /// of the container's cgroup directories (v1: on a tmpfs, one per hierarchy).
    private func mountCgroup(_ r: MountRequest, step: String) throws {
        let hierarchies = cgroupHierarchies
        let base = MountAttrs(set: MountFD.nosuid | MountFD.noexec | MountFD.nodev)
        let target = try safe.ensure(r.destination, directory: true)
        defer { Glibc.close(target) }
        let top: Int32
        if Cgroups.layout(hierarchies) == .v2 {
            if inCgroupNamespace {
                top = try Self.newFilesystem("cgroup2", source: "cgroup2", attrs: base.then(r.options.ownAttrs).set, step: step)
            } else {
                top = try cloneTree(cgroupPaths["unified"] ?? "", attrs: base.then(r.options.attrs), step: step)
            }
            defer { Glibc.close(top) }
            try MountFD.setAttrs(top, r.options.recursiveAttrs, recursive: true, step: step, what: r.mount.destination)
            try MountFD.move(top, onto: target, step: step, what: r.mount.destination)
            for p in r.options.propagation { try MountFD.setPropagation(top, p, step: step, what: r.mount.destination) }
            return
        }
        top = try Self.newFilesystem("tmpfs", source: "tmpfs", data: ["mode=755"], attrs: base.set, step: step)
        defer { Glibc.close(top) }
        try MountFD.move(top, onto: target, step: step, what: r.mount.destination)
        let dir = openat(top, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        try check(dir, step, "openat(\(r.mount.destination))")
        defer { Glibc.close(dir) }
        for h in hierarchies {
            let name = h.key == "unified" ? "unified" : String(h.key.split(separator: "=").last ?? "")
            try check(mkdirat(dir, name, 0o755), "\(step): \(name)", "mkdirat(\(name))")
            guard let source = cgroupPaths[h.key] else { continue }
            let sub = openat(dir, name, APUS_O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            try check(sub, "\(step): \(name)", "openat(\(name))")
            defer { Glibc.close(sub) }
            let tree = try cloneTree(source, attrs: base.then(r.options.attrs), step: "\(step): \(name)")
            defer { Glibc.close(tree) }
            try MountFD.move(tree, onto: sub, step: "\(step): \(name)", what: FS.join(r.mount.destination, name))
        }
        // The tmpfs's own flags ("ro"), now that its directories exist.
        try MountFD.setAttrs(top, r.options.attrs, recursive: false, step: step, what: r.mount.destination)
        try MountFD.setAttrs(top, r.options.recursiveAttrs, recursive: true, step: step, what: r.mount.destination)
        for p in r.options.propagation { try MountFD.setPropagation(top, p, step: step, what: r.mount.destination) }
    }

    /// A detached recursive clone of a host directory (visible until pivot_root) with `attrs` on its top.
    private func cloneTree(_ path: String, attrs: MountAttrs, step: String) throws -> Int32 {
        let tree = apus_open_tree(AT_FDCWD, path, MountFD.clone | MountFD.recursive | UInt32(O_CLOEXEC))
        try check(tree, step, "open_tree(\(path), OPEN_TREE_CLONE|AT_RECURSIVE)")
        do {
            try MountFD.setAttrs(tree, attrs, recursive: false, step: step, what: path)
        } catch {
            Glibc.close(tree)
            throw error
        }
        return tree
    }
}

/// Mounts made read-write that turn read-only at the end of the setup (a
/// tmpfs or /dev with "ro": the devices, submounts, tmpcopyup and the
/// console go in first), by their fds: nothing is resolved again.
struct LateReadOnly {
    var mounts: [(fd: Int32, step: String)] = []

    func apply() throws {
        for (fd, step) in mounts {
            try MountFD.setAttrs(fd, MountAttrs(set: MountFD.rdonly), recursive: false, step: step, what: "ro")
        }
    }

    func close() { for (fd, _) in mounts { _ = Glibc.close(fd) } }
}
