import CApusShim
import Glibc

/// process.cwd, resolved inside the container's root: symlinks are
/// followed as the container would see them, never out of it, and magic
/// links (/proc/*/fd/*, /proc/*/cwd) are refused (CVE-2024-21626).
///
/// runc's order: entered while still root, and, when root may not enter
/// it (a directory only the container user's group may search, whose owner
/// is not mapped into the user namespace), once more after the user
/// switch. The path is resolved with openat2 as root, before any seccomp
/// filter; the second attempt reuses that fd (fchdir). Only when root
/// cannot even resolve the path (an intermediate directory it may not
/// search) is it resolved again as the user.
struct WorkingDirectory {
    let path: String
    /// The resolved directory, kept while it is not entered yet.
    private var fd: Int32 = -1
    private(set) var entered = false

    static let step = "changing to process.cwd"

    private init(path: String) { self.path = path }

    /// The first attempt, as root: either entered, or left for `enterAsUser`
    /// when the kernel says EACCES/EPERM.
    static func enter(_ path: String) throws -> WorkingDirectory {
        var cwd = WorkingDirectory(path: path)
        let fd = try resolve(path)
        guard fd >= 0 else { return cwd }
        if fchdir(fd) < 0 {
            let err = errno
            guard isPermission(err) else {
                Glibc.close(fd)
                throw RuntimeError.syscall(step: step, call: "fchdir(\(path))", errno: err)
            }
            cwd.fd = fd
            return cwd
        }
        Glibc.close(fd)
        try verify(path)
        cwd.entered = true
        return cwd
    }

    /// The second attempt, as the container's user.
    mutating func enterAsUser() throws {
        guard !entered else { return }
        if fd < 0 {
            fd = try Self.resolve(path, asUser: true)
        }
        try check(fchdir(fd), Self.step, "fchdir(\(path))")
        close()
        try Self.verify(path)
        entered = true
    }

    mutating func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// An O_PATH fd for `path` under "/" (the container's root), or -1 when
    /// root may not search a directory on the way (then the user retries).
    private static func resolve(_ path: String, asUser: Bool = false) throws -> Int32 {
        let root = open("/", APUS_O_PATH | O_DIRECTORY | O_CLOEXEC)
        try check(root, step, "open(/)")
        defer { Glibc.close(root) }
        let fd = apus_openat2(root, path, UInt64(APUS_O_PATH | O_DIRECTORY | O_CLOEXEC), 0,
                              SafePath.resolveInRoot | SafePath.resolveNoMagicLinks)
        if fd >= 0 { return fd }
        let err = errno
        if err == ELOOP || err == EXDEV {
            throw RuntimeError.unsafe(step: step, reason: "\"\(path)\" leads through a /proc magic link or outside the container (\(errnoText(err)))")
        }
        if isPermission(err) && !asUser { return -1 }
        throw RuntimeError.syscall(step: step, call: "openat2(\(path), RESOLVE_IN_ROOT)", errno: err)
    }

    /// getcwd(3) fails (ENOENT) for a directory the root cannot reach.
    private static func verify(_ path: String) throws {
        var buf = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buf, buf.count) != nil, buf[0] == 0x2f else {
            throw RuntimeError.unsafe(step: step, reason: "\"\(path)\" is not inside the container's root")
        }
    }

    private static func isPermission(_ err: Int32) -> Bool { err == EACCES || err == EPERM }
}
