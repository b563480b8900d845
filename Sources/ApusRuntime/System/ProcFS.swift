import CApusShim
import Glibc

/// A handle on a procfs that the container cannot have tampered with: every
/// read and write of /proc goes through it. It is a fresh, detached procfs
/// instance when the kernel allows one (no overmounts can exist in it),
/// else the `/proc` at hand, verified to be the root of a procfs (fstatfs
/// magic, root inode). Paths below it are opened with openat2 so that no
/// symlink and no mount crossing can redirect them.
struct ProcFS {
    static let resolveNoXDev: UInt64 = 0x01
    static let resolveNoMagicLinks: UInt64 = 0x02
    static let resolveNoSymlinks: UInt64 = 0x04
    static let resolveBeneath: UInt64 = 0x08

    let fd: Int32

    /// A new procfs of the caller's pid namespace, or the verified `/proc`.
    static func open() throws -> ProcFS {
        let mounted = apus_fsmount_new("proc", nil, nil, 0, 0x2 | 0x4 | 0x8 /* nosuid, nodev, noexec */)
        if mounted >= 0 { return try ProcFS(verifying: mounted) }
        return try host()
    }

    /// The `/proc` of the caller's root, verified (for the host-side apus,
    /// where a fresh mount would cost more than it protects).
    static func host() throws -> ProcFS {
        let fd = Glibc.open("/proc", APUS_O_PATH | O_DIRECTORY | O_CLOEXEC)
        try check(fd, "opening procfs", "open(/proc)")
        return try ProcFS(verifying: fd)
    }

    private init(verifying fd: Int32) throws {
        let verified = apus_procfs_verify(fd)
        guard verified == 1 else {
            let err = errno
            Glibc.close(fd)
            if verified < 0 { throw RuntimeError.syscall(step: "verifying procfs", call: "fstatfs(/proc)", errno: err) }
            throw RuntimeError.unsafe(step: "verifying procfs", reason: "/proc is not the root of a procfs mount")
        }
        self.fd = fd
    }

    func close() { _ = Glibc.close(fd) }

    /// Opens `path` below this procfs: no symlinks, no magic links, no
    /// other mount on the way.
    func open(_ path: String, _ flags: Int32) throws -> Int32 {
        let fd = apus_openat2(self.fd, path, UInt64(UInt32(bitPattern: flags | O_CLOEXEC | O_NOCTTY)), 0,
                              Self.resolveBeneath | Self.resolveNoXDev | Self.resolveNoSymlinks | Self.resolveNoMagicLinks)
        try check(fd, "opening /proc/\(path)", "openat2(/proc/\(path), RESOLVE_BENEATH|RESOLVE_NO_XDEV|RESOLVE_NO_SYMLINKS)")
        return fd
    }

    /// "self/x" → "<pid>/x": the pid as this procfs sees the caller, read
    /// from its own "self" link (which RESOLVE_NO_SYMLINKS would refuse).
    func selfPath(_ rest: String) throws -> String {
        var buf = [CChar](repeating: 0, count: 32)
        let n = readlinkat(fd, "self", &buf, buf.count - 1)
        guard n > 0 else { throw RuntimeError.syscall(step: "finding our pid in procfs", call: "readlink(/proc/self)", errno: n < 0 ? errno : ENOENT) }
        let pid = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard !pid.isEmpty, pid.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw RuntimeError.unsafe(step: "finding our pid in procfs", reason: "/proc/self reads \"\(pid)\"")
        }
        return pid + "/" + rest
    }

    func read(_ path: String) throws -> [UInt8] {
        let fd = try open(path, O_RDONLY)
        defer { Glibc.close(fd) }
        return try FS.readAll(fd, path: "/proc/" + path)
    }

    /// One write(2): the kernel parses each write separately.
    func write(_ path: String, _ text: String) throws {
        let fd = try open(path, O_WRONLY)
        defer { Glibc.close(fd) }
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        if n != bytes.count {
            throw RuntimeError.syscall(step: "writing /proc/\(path)", call: "write(/proc/\(path), \"\(text.prefix(64))\")",
                                       errno: n < 0 ? errno : EIO)
        }
    }

    /// The target of `name` in the directory `dir` below this procfs (a
    /// /proc/PID/ns/* entry), read without following it; nil if unreadable.
    func readLink(_ dir: String, _ name: String) -> String? {
        guard let dirFD = try? open(dir, O_RDONLY | O_DIRECTORY) else { return nil }
        defer { Glibc.close(dirFD) }
        return FS.readLink(at: dirFD, name)
    }

    /// An O_PATH fd of process `pid`'s root directory: its magic link,
    /// followed on purpose, one component below a verified directory. What
    /// lies below it belongs to the container: resolve only with
    /// RESOLVE_IN_ROOT (SafePath) and never follow a link found there.
    func root(of pid: Int32) throws -> Int32 {
        let dir = try open(String(pid), O_RDONLY | O_DIRECTORY)
        defer { Glibc.close(dir) }
        let root = openat(dir, "root", APUS_O_PATH | O_DIRECTORY | O_CLOEXEC)
        try check(root, "opening the root of process \(pid)", "openat(/proc/\(pid)/root)")
        return root
    }

    /// The namespace file `name` ("net", ...) of process `pid`, opened
    /// read-only: its magic link, followed on purpose one component below
    /// a verified directory.
    func namespace(of pid: Int32, _ name: String) throws -> Int32 {
        let dir = try open("\(pid)/ns", O_RDONLY | O_DIRECTORY)
        defer { Glibc.close(dir) }
        let fd = openat(dir, name, O_RDONLY | O_CLOEXEC)
        try check(fd, "opening the \(name) namespace of process \(pid)", "openat(/proc/\(pid)/ns/\(name))")
        return fd
    }

    /// The caller's fd directory, to reopen one of its fds (a magic link,
    /// followed only here, one component below a verified directory).
    func reopen(fd: Int32, _ flags: Int32) throws -> Int32 {
        let dir = try open(try selfPath("fd"), O_RDONLY | O_DIRECTORY)
        defer { Glibc.close(dir) }
        let reopened = openat(dir, String(fd), flags | O_CLOEXEC)
        try check(reopened, "reopening fd \(fd)", "openat(/proc/self/fd/\(fd))")
        return reopened
    }
}
