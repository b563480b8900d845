import ApusSpec
import Glibc

/// What the kernel says about one process, read from /proc/<pid> through
/// the verified procfs handle: nothing here comes from config.json. The
/// parsers are static so unit tests can feed them text.
struct KernelView {
    /// The lines of /proc/PID/status that `inspect` reports.
    struct Status: Equatable {
        var capabilities: [IsolationFacts.CapabilitySet: UInt64] = [:]
        var noNewPrivileges = false
        /// 0 disabled, 1 strict, 2 filter.
        var seccompMode = 0
        var seccompFilters = 0
        /// Real, effective, saved, filesystem (as the reader's user namespace maps them).
        var uids: [UInt32] = []
        var gids: [UInt32] = []
        var groups: [UInt32] = []
    }

    let proc: ProcFS
    let pid: Int32

    func read(_ file: String) throws -> String {
        String(decoding: try proc.read("\(pid)/\(file)"), as: UTF8.self)
    }

    /// /proc/PID/ns/<name> and the caller's own, as inode numbers.
    func namespaceInodes(_ type: NamespaceType) -> (own: UInt64?, caller: UInt64?) {
        let own = proc.readLink("\(pid)/ns", type.procName).flatMap(Self.inode)
        let caller = (try? proc.selfPath("ns")).flatMap { proc.readLink($0, type.procName) }.flatMap(Self.inode)
        return (own, caller)
    }

    /// The AppArmor or SELinux label of the process, when such an LSM is active.
    func lsmLabel() -> (name: String, label: String)? {
        func label(_ file: String) -> String? {
            guard let text = try? read(file) else { return nil }
            let trimmed = String(text.split(whereSeparator: { $0 == "\n" || $0 == "\0" }).first ?? "")
            return trimmed.isEmpty ? nil : trimmed
        }
        if let l = label("attr/apparmor/current") { return ("apparmor", l) }
        if let l = label("attr/current") { return (FS.exists("/sys/fs/selinux") ? "selinux" : "lsm", l) }
        return nil
    }

    /// Device nodes in the container's /dev and one level of directories
    /// below it (pts, shm and mqueue left out), found through the process's
    /// root with RESOLVE_IN_ROOT; no link is followed.
    func deviceNodes(limit: Int = 4096) -> [(path: String, type: String, major: Int64, minor: Int64)] {
        guard let rootFD = try? proc.root(of: pid) else { return [] }
        let root = SafePath(rootFD: rootFD, path: "/proc/\(pid)/root")
        defer { root.close() }
        var out: [(path: String, type: String, major: Int64, minor: Int64)] = []
        var seen = 0
        func scan(_ dir: String, depth: Int) {
            guard let fd = try? root.open(dir, flags: O_RDONLY | O_DIRECTORY) else { return }
            defer { close(fd) }
            for name in (try? FS.listDirectory(fd: fd, path: dir)) ?? [] {
                seen += 1
                if seen > limit { return }
                var st = stat()
                guard fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
                switch HostProbe.fileKind(st) {
                case .charDevice(let major, let minor): out.append((dir + "/" + name, "c", major, minor))
                case .blockDevice(let major, let minor): out.append((dir + "/" + name, "b", major, minor))
                case .directory where depth == 0 && !["pts", "shm", "mqueue"].contains(name): scan(dir + "/" + name, depth: 1)
                default: break
                }
            }
        }
        scan("/dev", depth: 0)
        return out
    }

    // MARK: parsers

    static func parseStatus(_ text: String) -> Status {
        var s = Status()
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon]
            let value = line[line.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\t" })
            let numbers = value.compactMap { UInt32($0) }
            switch key {
            case "CapInh": s.capabilities[.inheritable] = value.first.flatMap { UInt64($0, radix: 16) }
            case "CapPrm": s.capabilities[.permitted] = value.first.flatMap { UInt64($0, radix: 16) }
            case "CapEff": s.capabilities[.effective] = value.first.flatMap { UInt64($0, radix: 16) }
            case "CapBnd": s.capabilities[.bounding] = value.first.flatMap { UInt64($0, radix: 16) }
            case "CapAmb": s.capabilities[.ambient] = value.first.flatMap { UInt64($0, radix: 16) }
            case "NoNewPrivs": s.noNewPrivileges = value.first == "1"
            case "Seccomp": s.seccompMode = value.first.flatMap { Int($0) } ?? 0
            case "Seccomp_filters": s.seccompFilters = value.first.flatMap { Int($0) } ?? 0
            case "Uid": s.uids = numbers
            case "Gid": s.gids = numbers
            case "Groups": s.groups = numbers
            default: continue
            }
        }
        return s
    }

    /// A capability mask as names, in kernel order ("CAP_41" for a number
    /// this build does not know).
    static func capabilityNames(_ mask: UInt64) -> [String] {
        (0..<64).filter { mask & (1 << UInt64($0)) != 0 }.map { n in
            Capability(number: Int32(n))?.rawValue ?? "CAP_\(n)"
        }
    }

    static func capabilities(_ mask: UInt64) -> Set<Capability> {
        Set((0..<64).filter { mask & (1 << UInt64($0)) != 0 }.compactMap { Capability(number: Int32($0)) })
    }

    /// /proc/PID/uid_map or gid_map: "inside outside count" lines.
    static func parseIDMap(_ text: String) -> [IDMapping] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { UInt32($0) }
            return f.count == 3 ? IDMapping(containerID: f[0], hostID: f[1], size: f[2]) : nil
        }
    }

    /// "net:[4026531840]" → 4026531840.
    static func inode(_ link: String) -> UInt64? {
        guard let open = link.firstIndex(of: "["), link.hasSuffix("]") else { return nil }
        return UInt64(link[link.index(after: open)..<link.index(before: link.endIndex)])
    }

    /// The host path a container mount shows, from the host's mount table:
    /// the host mount of the same filesystem whose root holds the
    /// container mount's root (the deepest such root). Nil for a filesystem
    /// the host has not mounted (a fresh tmpfs, procfs, devpts, ...).
    static func hostPath(of m: MountEntry, in host: [MountEntry]) -> String? {
        func holds(_ root: String) -> Bool { root == "/" || m.root == root || m.root.hasPrefix(root + "/") }
        let candidates = host.filter { $0.majorMinor == m.majorMinor && holds($0.root) }
        guard let best = candidates.max(by: { $0.root.count < $1.root.count }) else { return nil }
        let rest = best.root == "/" ? m.root : String(m.root.dropFirst(best.root.count))
        return rest.isEmpty || rest == "/" ? best.mountPoint : FS.join(best.mountPoint, rest)
    }
}
