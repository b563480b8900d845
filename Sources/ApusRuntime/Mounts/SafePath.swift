import CApusShim
import Glibc

/// Resolves paths inside the container's rootfs without letting symlinks
/// lead out of it: every lookup is openat2(RESOLVE_IN_ROOT) against an fd
/// of the rootfs, and mounts are moved onto the resulting fd (move_mount;
/// device binds target it through /proc/self/fd), so a symlink swapped in
/// later cannot redirect them.
struct SafePath {
    static let resolveInRoot: UInt64 = 0x10       // RESOLVE_IN_ROOT
    static let resolveNoMagicLinks: UInt64 = 0x02 // RESOLVE_NO_MAGICLINKS
    let rootFD: Int32
    let rootPath: String

    init(rootfs: String) throws {
        rootPath = rootfs
        rootFD = Glibc.open(rootfs, APUS_O_PATH | O_DIRECTORY | O_CLOEXEC)
        try check(rootFD, "opening rootfs", "open(\(rootfs))")
    }

    /// Takes over an fd of a root directory (another process's, from ProcFS.root(of:)).
    init(rootFD: Int32, path: String) {
        self.rootFD = rootFD
        self.rootPath = path
    }

    func close() { _ = Glibc.close(rootFD) }

    /// An fd (O_PATH unless `flags` say otherwise) for `path` inside the
    /// rootfs, or nil if it does not exist.
    func open(_ path: String, flags: Int32 = APUS_O_PATH) throws -> Int32? {
        let fd = apus_openat2(rootFD, path, UInt64(UInt32(bitPattern: flags | O_CLOEXEC)), 0, Self.resolveInRoot | Self.resolveNoMagicLinks)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw RuntimeError.syscall(step: "resolving \(path) in the rootfs", call: "openat2(\(path), RESOLVE_IN_ROOT)", errno: errno)
        }
        return fd
    }

    /// `path` as it resolves inside the rootfs (its symlinks followed there),
    /// absolute from the rootfs's `/`; nil if it does not exist or cannot be
    /// named.
    func resolved(_ path: String) -> String? {
        guard let fd = try? open(path) else { return nil }
        defer { _ = Glibc.close(fd) }
        guard let root = FS.readLink(Self.procPath(rootFD)), let full = FS.readLink(Self.procPath(fd)) else { return nil }
        if full == root { return "/" }
        let prefix = root == "/" ? "" : root
        return full.hasPrefix(prefix + "/") ? String(full.dropFirst(prefix.count)) : nil
    }

    /// Creates `path` (and its parents) inside the rootfs as a directory or
    /// an empty file, and returns an O_PATH fd for it. A dangling symlink on
    /// the way is followed the way the container would see it: its target
    /// is created inside the rootfs.
    func ensure(_ path: String, directory: Bool, depth: Int = 0) throws -> Int32 {
        if let fd = try open(path) { return fd }
        guard depth < 40 else {
            throw RuntimeError.syscall(step: "creating mount point", call: "openat2(\(path))", errno: ELOOP)
        }
        let parentPath = FS.dirname(path.hasPrefix("/") ? path : "/" + path)
        let name = String(path.split(separator: "/").last ?? "")
        guard !name.isEmpty else { throw RuntimeError.other("cannot create \(path) in the rootfs") }
        let parent = try ensure(parentPath, directory: true, depth: depth + 1)
        defer { Glibc.close(parent) }
        // Reopen the parent as a real directory fd: mkdirat/openat need one.
        let dirFD = openat(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        try check(dirFD, "creating \(path) in the rootfs", "openat(\(parentPath))")
        defer { Glibc.close(dirFD) }
        if let target = danglingSymlink(dirFD, name) {
            let resolved = target.hasPrefix("/") ? target : FS.join(parentPath, target)
            return try ensure(resolved, directory: directory, depth: depth + 1)
        }
        if directory {
            if mkdirat(dirFD, name, 0o755) < 0 && errno != EEXIST {
                throw RuntimeError.syscall(step: "creating mount point", call: "mkdirat(\(path))", errno: errno)
            }
        } else {
            let f = openat(dirFD, name, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
            if f < 0 && errno != EEXIST {
                throw RuntimeError.syscall(step: "creating mount point", call: "openat(\(path), O_CREAT)", errno: errno)
            }
            if f >= 0 { Glibc.close(f) }
        }
        guard let fd = try open(path) else {
            throw RuntimeError.syscall(step: "creating mount point", call: "openat2(\(path))", errno: ENOENT)
        }
        return fd
    }

    /// The target of `name` in `dirFD` if it is a symlink (which, since the
    /// path did not resolve, points nowhere yet).
    private func danglingSymlink(_ dirFD: Int32, _ name: String) -> String? {
        var st = stat()
        guard fstatat(dirFD, name, &st, AT_SYMLINK_NOFOLLOW) == 0, (st.st_mode & S_IFMT) == S_IFLNK else { return nil }
        return FS.readLink(at: dirFD, name)
    }

    static func procPath(_ fd: Int32) -> String { "/proc/self/fd/\(fd)" }
}
