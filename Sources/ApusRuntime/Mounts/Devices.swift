import ApusSpec
import Glibc

/// The device nodes every container gets on a fresh /dev (as runc gives
/// them), the spec's `linux.devices`, and the standard /dev symlinks.
enum Devices {
    struct Node {
        var path: String
        var type: String
        var major: Int64
        var minor: Int64
        var mode: UInt32
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    static let defaults: [Node] = [
        Node(path: "/dev/null", type: "c", major: 1, minor: 3, mode: 0o666),
        Node(path: "/dev/zero", type: "c", major: 1, minor: 5, mode: 0o666),
        Node(path: "/dev/full", type: "c", major: 1, minor: 7, mode: 0o666),
        Node(path: "/dev/tty", type: "c", major: 5, minor: 0, mode: 0o666),
        Node(path: "/dev/urandom", type: "c", major: 1, minor: 9, mode: 0o666),
        Node(path: "/dev/random", type: "c", major: 1, minor: 8, mode: 0o666),
    ]

    static let symlinks: [(link: String, target: String)] = [
        ("/dev/fd", "/proc/self/fd"), ("/dev/stdin", "/proc/self/fd/0"),
        ("/dev/stdout", "/proc/self/fd/1"), ("/dev/stderr", "/proc/self/fd/2"),
        ("/dev/core", "/proc/kcore"),
    ]

    static func populate(spec: Spec, safe: SafePath, bindFromHost: Bool) throws {
        var nodes = defaults
        for d in spec.linux?.devices ?? [] {
            // Validation guarantees major/minor for every type but "p".
            let node = Node(path: d.path, type: d.type, major: d.major ?? 0, minor: d.minor ?? 0,
                            mode: d.fileMode ?? 0o666, uid: d.uid ?? 0, gid: d.gid ?? 0)
            nodes.removeAll { $0.path == d.path }
            nodes.append(node)
        }
        let oldMask = umask(0)
        defer { umask(oldMask) }
        var parents = Parents(safe: safe)
        defer { parents.close() }
        for node in nodes {
            if bindFromHost { try bind(node, safe: safe) } else { try create(node, in: &parents) }
        }
        for (link, target) in symlinks { try symlink(link, to: target, in: &parents) }
        let hasDevpts = (spec.mounts ?? []).contains { FS.clean($0.destination) == "/dev/pts" }
        if hasDevpts { try symlink("/dev/ptmx", to: "pts/ptmx", in: &parents) }
    }

    /// The directories the nodes and links go in, each resolved in the
    /// rootfs and opened once (/dev for all the defaults).
    private struct Parents {
        let safe: SafePath
        var fds: [String: Int32] = [:]

        mutating func fd(of path: String) throws -> Int32 {
            let dir = FS.dirname(path)
            if let fd = fds[dir] { return fd }
            let parent = try safe.ensure(dir, directory: true)
            defer { Glibc.close(parent) }
            let fd = openat(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            try check(fd, "creating \(path)", "openat(\(dir))")
            fds[dir] = fd
            return fd
        }

        func close() { for fd in fds.values { Glibc.close(fd) } }
    }

    private static func create(_ node: Node, in parents: inout Parents) throws {
        let dirFD = try parents.fd(of: node.path)
        let name = String(node.path.split(separator: "/").last ?? "")
        let kind: mode_t
        switch node.type {
        case "b": kind = S_IFBLK
        case "p": kind = S_IFIFO
        default: kind = S_IFCHR
        }
        let dev = makedev(UInt32(truncatingIfNeeded: node.major), UInt32(truncatingIfNeeded: node.minor))
        unlinkat(dirFD, name, 0)
        try check(mknodat(dirFD, name, kind | mode_t(node.mode & 0o7777), dev), "creating device \(node.path)",
                  "mknod(\(node.path), \(node.type) \(node.major):\(node.minor))")
        try check(fchownat(dirFD, name, node.uid, node.gid, Int32(AT_SYMLINK_NOFOLLOW)), "creating device \(node.path)", "chown(\(node.path))")
    }

    /// In a user namespace mknod is not allowed: bind the host's node instead.
    private static func bind(_ node: Node, safe: SafePath) throws {
        let target = try safe.ensure(node.path, directory: false)
        defer { close(target) }
        try mountOrThrow(node.path, SafePath.procPath(target), nil, UInt(MS_BIND), nil, step: "binding device \(node.path)")
    }

    private static func symlink(_ link: String, to target: String, in parents: inout Parents) throws {
        let parent = try parents.fd(of: link)
        let name = String(link.split(separator: "/").last ?? "")
        if symlinkat(target, parent, name) < 0 && errno != EEXIST {
            throw RuntimeError.syscall(step: "creating \(link)", call: "symlink(\(target), \(link))", errno: errno)
        }
    }
}

func makedev(_ major: UInt32, _ minor: UInt32) -> dev_t {
    var dev = dev_t(major & 0xfff) << 8 | dev_t(minor & 0xff)
    dev |= dev_t(major & ~0xfff) << 32 | dev_t(minor & ~0xff) << 12
    return dev
}

/// The inverse of makedev (glibc's gnu_dev_major/minor are macros Swift cannot see).
func major(_ dev: dev_t) -> Int64 { Int64((dev >> 8) & 0xfff | (dev >> 32) & ~0xfff) }
func minor(_ dev: dev_t) -> Int64 { Int64(dev & 0xff | (dev >> 12) & ~0xff) }
