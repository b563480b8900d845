import ApusSpec
import Glibc

/// Cgroups for an unprivileged apus (runc's rootless cgroup manager): a
/// hierarchy is used where the user may make the container's directory and
/// move processes into it (cgroup v2 delegation, a v1 directory the user
/// owns); otherwise it is skipped when no cgroupsPath was given. What the
/// config needs from a skipped hierarchy is an error naming it.
enum RootlessCgroups {
    /// The container's cgroup paths reduced to the usable ones. Decided
    /// before anything is created; throws when an explicit cgroupsPath or a
    /// resource limit cannot be honoured.
    static func usable(_ paths: [String: String], spec: Spec) throws -> [String: String] {
        var kept: [String: String] = [:]
        var skipped: [String: String] = [:]
        for (key, dir) in paths {
            if writable(dir, unified: key == "unified") { kept[key] = dir } else { skipped[key] = dir }
        }
        guard !skipped.isEmpty else { return kept }
        if let path = spec.linux?.cgroupsPath, !path.isEmpty {
            let dirs = skipped.values.sorted().joined(separator: ", ")
            throw RuntimeError.unsupported(path: "linux.cgroupsPath",
                                           reason: "uid \(geteuid()) may not create or join \(dirs) (not delegated to this user)")
        }
        for (path, controller) in needed(spec.linux?.resources) where !provides(kept, all: paths, controller) {
            throw RuntimeError.unsupported(path: "linux.resources." + path,
                                           reason: "cannot set the \(controller) limit: no \(controller) cgroup is delegated to uid \(geteuid()), so the container could not join or create one")
        }
        return kept
    }

    /// The user may create `dir` (or it exists with a writable cgroup.procs)
    /// and, on cgroup v2, write cgroup.procs of the common ancestor of its
    /// own cgroup and `dir` (the kernel's rule for moving a process).
    static func writable(_ dir: String, unified: Bool) -> Bool {
        if FS.exists(dir) {
            if access(dir + "/cgroup.procs", W_OK) != 0 { return false }
        } else {
            var parent = FS.dirname(dir)
            while !FS.exists(parent) && parent != "/" { parent = FS.dirname(parent) }
            if access(parent, W_OK | X_OK) != 0 { return false }
        }
        guard unified else { return true }
        guard let own = Cgroups.directories(membership: (try? FS.readString("/proc/self/cgroup")) ?? "",
                                            hierarchies: Cgroups.hierarchies())["unified"] else { return false }
        var common = own
        while !(dir == common || dir.hasPrefix(common + "/")) && common != "/" { common = FS.dirname(common) }
        return access(common + "/cgroup.procs", W_OK) == 0
    }

    /// A controller is available in `kept`: a v1 hierarchy holding it, or
    /// cgroup2 when no v1 hierarchy has it.
    static func provides(_ kept: [String: String], all: [String: String], _ controller: String) -> Bool {
        let inV1 = { (paths: [String: String]) in paths.keys.contains { $0.split(separator: ",").contains(Substring(controller)) } }
        if inV1(kept) { return true }
        return !inV1(all) && kept["unified"] != nil
    }

    /// The resources the config sets, as (JSON path under linux.resources, controller).
    static func needed(_ r: Resources?) -> [(String, String)] {
        guard let r else { return [] }
        func set(_ v: JSONValue?) -> Bool {
            switch v {
            case nil, .null?: return false
            case .object(let o)?: return o.members.contains { set($0.value) }
            case .array(let a)?: return !a.isEmpty
            default: return true
            }
        }
        var out: [(String, String)] = []
        if !(r.devices ?? []).isEmpty { out.append(("devices", "devices")) }
        if set(r.memory?.json) { out.append(("memory", "memory")) }
        if let cpu = r.cpu {
            if cpu.cpus != nil || cpu.mems != nil { out.append(("cpu", "cpuset")) }
            var rest = cpu
            rest.cpus = nil
            rest.mems = nil
            if set(rest.json) { out.append(("cpu", "cpu")) }
        }
        if r.pids != nil { out.append(("pids", "pids")) }
        if set(r.blockIO?.json) { out.append(("blockIO", "blkio")) }
        if !(r.hugepageLimits ?? []).isEmpty { out.append(("hugepageLimits", "hugetlb")) }
        if let n = r.network {
            if n.classID != nil { out.append(("network.classID", "net_cls")) }
            if !(n.priorities ?? []).isEmpty { out.append(("network.priorities", "net_prio")) }
        }
        if !(r.rdma ?? [:]).isEmpty { out.append(("rdma", "rdma")) }
        if !(r.unified ?? [:]).isEmpty { out.append(("unified", "unified")) }
        return out
    }
}
