import Glibc

/// The `tmpcopyup` mount option (a runc extension podman uses for
/// --read-only and --tmpfs): a fresh tmpfs starts with a copy of what the
/// rootfs had at its mount point, like `cp -a`. Works on fds: the fd of the
/// directory underneath still reaches the hidden files after the mount.
enum TmpCopyUp {
    static let option = "tmpcopyup"

    /// What the tmpfs's root takes from the directory it covers: its mode
    /// unless the mount sets `mode=`, its owner unless it sets `uid=` or
    /// `gid=`, and neither from a directory made for the mount (as runc:
    /// `--tmpfs /scratch:mode=1777` gives 1777, not the new mount point's 0755).
    struct Inherit: Equatable {
        var mode: Bool
        var owner: Bool

        init(data: [String], directoryExisted: Bool) {
            mode = directoryExisted && !data.contains { $0.hasPrefix("mode=") }
            owner = directoryExisted && !data.contains { $0.hasPrefix("uid=") || $0.hasPrefix("gid=") }
        }
    }

    /// Copies the contents of directory `from` into `to` (and its mode and
    /// owner, as `inherit` says).
    static func copy(from: Int32, to: Int32, inherit: Inherit, what: String) throws {
        let src = openat(from, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        try check(src, "tmpcopyup \(what)", "openat(\(what))")
        defer { close(src) }
        let dst = openat(to, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        try check(dst, "tmpcopyup \(what)", "openat(\(what) tmpfs)")
        defer { close(dst) }
        var st = stat()
        try check(fstat(src, &st), "tmpcopyup \(what)", "fstat(\(what))")
        if inherit.mode { try check(fchmod(dst, st.st_mode & 0o7777), "tmpcopyup \(what)", "fchmod(\(what))") }
        if inherit.owner { try check(fchown(dst, st.st_uid, st.st_gid), "tmpcopyup \(what)", "fchown(\(what))") }
        try copyEntries(src, dst, what: what)
    }

    private static func copyEntries(_ src: Int32, _ dst: Int32, what: String) throws {
        let listing = dup(src)
        try check(listing, "tmpcopyup \(what)", "dup()")
        guard let dir = fdopendir(listing) else {
            close(listing)
            throw RuntimeError.syscall(step: "tmpcopyup \(what)", call: "fdopendir(\(what))", errno: errno)
        }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name == "." || name == ".." { continue }
            try copyEntry(name, src, dst, what: what + "/" + name)
        }
    }

    private static func copyEntry(_ name: String, _ src: Int32, _ dst: Int32, what: String) throws {
        var st = stat()
        try check(fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW), "tmpcopyup", "fstatat(\(what))")
        let mode = st.st_mode & 0o7777
        switch st.st_mode & S_IFMT {
        case S_IFDIR:
            try check(mkdirat(dst, name, mode), "tmpcopyup", "mkdirat(\(what))")
            let s = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            try check(s, "tmpcopyup", "openat(\(what))")
            defer { close(s) }
            let d = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            try check(d, "tmpcopyup", "openat(\(what) copy)")
            defer { close(d) }
            try copyEntries(s, d, what: what)
        case S_IFREG:
            // Non-blocking and re-checked: a FIFO swapped in since fstatat must not hang us.
            let s = openat(src, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
            try check(s, "tmpcopyup", "openat(\(what))")
            defer { close(s) }
            var opened = stat()
            try check(fstat(s, &opened), "tmpcopyup", "fstat(\(what))")
            guard (opened.st_mode & S_IFMT) == S_IFREG else {
                throw RuntimeError.unsafe(step: "tmpcopyup \(what)", reason: "\(name) changed type while being copied")
            }
            let d = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
            try check(d, "tmpcopyup", "openat(\(what) copy)")
            defer { close(d) }
            try FS.writeAll(d, try FS.readAll(s, path: what, limit: Int.max), path: what)
        case S_IFLNK:
            var buf = [CChar](repeating: 0, count: 4096)
            let n = readlinkat(src, name, &buf, buf.count - 1)
            try check(n, "tmpcopyup", "readlinkat(\(what))")
            try check(symlinkat(String(cString: buf), dst, name), "tmpcopyup", "symlinkat(\(what))")
        default:
            try check(mknodat(dst, name, st.st_mode, st.st_rdev), "tmpcopyup", "mknodat(\(what))")
        }
        try check(fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW), "tmpcopyup", "fchownat(\(what))")
        if (st.st_mode & S_IFMT) != S_IFLNK {
            try check(fchmodat(dst, name, mode, 0), "tmpcopyup", "fchmodat(\(what))")
        }
    }
}
