import ApusSpec
import Glibc

/// Running apus as an unprivileged user (runc's "rootless" mode): where the
/// state lives, whether cgroup permission problems are tolerated, and what
/// such a user may not ask for, refused before anything is created.
public enum Rootless {
    /// Apus is not root on the host: every privilege comes from the
    /// container's own user namespace.
    public static var unprivileged: Bool { geteuid() != 0 }

    /// Runs in a user namespace other than the initial one (its uid_map is
    /// not the identity over all ids).
    static var inUserNamespace: Bool {
        guard let text = try? FS.readString("/proc/self/uid_map") else { return false }
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        return fields != ["0", "0", "4294967295"]
    }

    /// runc's state root: `$XDG_RUNTIME_DIR/apus` for an unprivileged user,
    /// or root in a user namespace whose USER is not "root"; else /run/apus.
    public static func defaultRoot() -> (path: String, fromXDG: Bool) {
        if let xdg = env("XDG_RUNTIME_DIR"), !xdg.isEmpty, honoursXDGRuntimeDir {
            return (FS.join(xdg, "apus"), true)
        }
        return (StateStore.defaultRoot, false)
    }

    static var honoursXDGRuntimeDir: Bool {
        if unprivileged { return true }
        guard inUserNamespace else { return false }
        return env("USER").map { $0 != "root" } ?? true
    }

    /// `--rootless true|false|auto`: whether cgroups the user may not make
    /// are skipped instead of failing create (runc's rootless cgroup
    /// manager). auto: yes for an unprivileged user, or root in a user
    /// namespace.
    public static func toleratesCgroupErrors(_ flag: String) -> Bool {
        switch flag {
        case "true": return true
        case "false": return false
        default: return unprivileged || inUserNamespace
        }
    }

    private static func env(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

    // MARK: - what an unprivileged user may not ask for

    /// Everything in `spec` an unprivileged apus cannot do, each with its
    /// JSON path (empty when apus runs as root).
    static func problems(_ spec: Spec, uid: uid_t = geteuid(), gid: gid_t = getegid(),
                         subordinate: @autoclosure () -> SubordinateIDs = .current()) -> [RuntimeError] {
        guard uid != 0 else { return [] }
        let subordinate = subordinate() // /etc/passwd, /etc/subuid: only when unprivileged
        var out: [RuntimeError] = []
        let linux = spec.linux
        let ns = NamespacePlan(spec)
        let nsPath = JSONPath.root.key("linux").key("namespaces").description
        if ns.shares(.user) {
            out.append(.unsupported(path: nsPath, reason: "rootless container requires user namespaces (apus is not running as root)"))
            return out
        }
        if ns.creates(.user) {
            out += mappingProblems(linux?.uidMappings, key: "uidMappings", own: uid, granted: subordinate.uids, tool: "newuidmap")
            out += mappingProblems(linux?.gidMappings, key: "gidMappings", own: gid, granted: subordinate.gids, tool: "newgidmap")
            if let groups = spec.process?.user.additionalGids, !groups.isEmpty, IDMaps.writesDirectly(linux?.gidMappings, own: gid) {
                out.append(.unsupported(path: "process.user.additionalGids",
                                        reason: "setgroups is denied in a user namespace whose gid map an unprivileged user writes itself: grant ids in /etc/subgid (newgidmap)"))
            }
        }
        if ns.shares(.mount) && (!(spec.mounts ?? []).isEmpty || spec.root?.readonly == true) {
            out.append(.unsupported(path: nsPath, reason: "mounts and a read-only root in a rootless container need a mount namespace of its own"))
        }
        let uidMaps = linux?.uidMappings ?? [], gidMaps = linux?.gidMappings ?? []
        for (i, m) in (spec.mounts ?? []).enumerated() {
            out += mountProblems(MountRequest(m, index: i), namespaces: ns, uidMaps: uidMaps, gidMaps: gidMaps)
        }
        if ns.creates(.user), let adj = spec.process?.oomScoreAdj, let own = ownOOMScoreAdj(), adj < own {
            out.append(.unsupported(path: "process.oomScoreAdj",
                                    reason: "\(adj) is below apus's own \(own): lowering it needs CAP_SYS_RESOURCE on the host"))
        }
        return out
    }

    private static func mappingProblems(_ maps: [IDMapping]?, key: String, own: UInt32, granted: [ClosedRange<UInt32>],
                                        tool: String) -> [RuntimeError] {
        let path = JSONPath.root.key("linux").key(key)
        guard let maps, !maps.isEmpty else {
            return [.unsupported(path: path.description, reason: "a rootless container needs at least one mapping")]
        }
        if IDMaps.writesDirectly(maps, own: own) { return [] }
        var out: [RuntimeError] = []
        for (i, m) in maps.enumerated() {
            let range = UInt64(m.hostID)...(UInt64(m.hostID) + UInt64(max(m.size, 1)) - 1)
            let isOwn = m.size == 1 && m.hostID == own
            let covered = granted.contains { UInt64($0.lowerBound) <= range.lowerBound && range.upperBound <= UInt64($0.upperBound) }
            if !isOwn && !covered {
                let file = key == "uidMappings" ? "/etc/subuid" : "/etc/subgid"
                out.append(.unsupported(path: path.index(i).description,
                                        reason: "host ids \(range.lowerBound)-\(range.upperBound) are neither the user's own (\(own)) nor granted to it in \(file)"))
            }
        }
        if out.isEmpty, IDMaps.mappingTool(tool) == nil {
            out.append(.unsupported(path: path.description, reason: "more than the user's own id needs \(tool) (Debian package uidmap), which is not installed"))
        }
        return out
    }

    /// Mounts only root on the host may make (runc refuses uid=/gid= of
    /// unmapped ids the same way; the kernel refuses the rest with EPERM).
    static func mountProblems(_ r: MountRequest, namespaces ns: NamespacePlan, uidMaps: [IDMapping], gidMaps: [IDMapping]) -> [RuntimeError] {
        var out: [RuntimeError] = []
        let options = r.mount.options ?? []
        for (j, o) in options.enumerated() {
            for (prefix, maps) in [("uid=", uidMaps), ("gid=", gidMaps)] where o.hasPrefix(prefix) {
                guard let id = UInt32(o.dropFirst(prefix.count)),
                      maps.contains(where: { UInt64($0.containerID) <= UInt64(id) && UInt64(id) < UInt64($0.containerID) + UInt64($0.size) })
                else {
                    out.append(.unsupported(path: r.path.key("options").index(j).description,
                                            reason: "cannot specify \(prefix) mount options for an id not mapped in a rootless container"))
                    continue
                }
            }
        }
        let here = r.path.description
        if r.kind == .bind, r.isIDMapped {
            out.append(.unsupported(path: here, reason: "an id-mapped mount of a host filesystem needs root on the host"))
        }
        switch r.kind {
        case .bind: break
        case .cgroup:
            if r.type == "cgroup2" && ns.shares(.cgroup) {
                out.append(.unsupported(path: here, reason: "a cgroup2 mount in a rootless container needs a cgroup namespace of its own"))
            }
        case .filesystem:
            if r.options.remount { break }
            let needs: [String: (NamespaceType, String)] = [
                "proc": (.pid, "pid"), "sysfs": (.network, "network"), "mqueue": (.ipc, "ipc"),
            ]
            if let (t, name) = needs[r.type], !ns.creates(t) {
                let hint = r.type == "sysfs" ? " (or bind the host's: source /sys, options rbind)" : ""
                out.append(.unsupported(path: here, reason: "\(r.type) in a rootless container needs a \(name) namespace of its own\(hint)"))
            } else if !userMountable.contains(r.type) && needs[r.type] == nil {
                out.append(.unsupported(path: here, reason: "only root on the host may mount a \(r.type.isEmpty ? "filesystem without a type" : r.type) filesystem"))
            }
        }
        return out
    }

    /// Filesystems the kernel lets a user namespace's root mount (FS_USERNS_MOUNT).
    static let userMountable: Set<String> = ["tmpfs", "devpts", "ramfs", "overlay", "fuse", "binfmt_misc"]

    private static func ownOOMScoreAdj() -> Int? {
        (try? FS.readString("/proc/self/oom_score_adj")).flatMap { Int($0.split(separator: "\n").first ?? "") }
    }
}

/// The ids /etc/subuid and /etc/subgid grant the user (by name or uid).
struct SubordinateIDs {
    var uids: [ClosedRange<UInt32>] = []
    var gids: [ClosedRange<UInt32>] = []

    static func current() -> SubordinateIDs {
        let uid = geteuid()
        let name = getpwuid(uid).map { String(cString: $0.pointee.pw_name) }
        let keys = Set([String(uid)] + (name.map { [$0] } ?? []))
        return SubordinateIDs(uids: parse((try? FS.readString("/etc/subuid")) ?? "", keys: keys),
                              gids: parse((try? FS.readString("/etc/subgid")) ?? "", keys: keys))
    }

    /// "name:start:count" lines for any of `keys`.
    static func parse(_ text: String, keys: Set<String>) -> [ClosedRange<UInt32>] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            guard f.count == 3, keys.contains(String(f[0])), let start = UInt32(f[1]), let count = UInt32(f[2]), count > 0,
                  UInt64(start) + UInt64(count) - 1 <= UInt64(UInt32.max) else { return nil }
            return start...(start + (count - 1))
        }
    }
}
