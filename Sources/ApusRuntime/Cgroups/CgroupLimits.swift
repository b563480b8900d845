import ApusSpec

/// The limits in force in a container's cgroups, read back from the cgroup
/// files of this host's layout (a v1 hierarchy first, else cgroup v2, as
/// CgroupResources applies them). -1 means "no limit" (as in config.json);
/// nil, that the host has no such controller for the container.
public struct CgroupLimits: Equatable {
    public var memory: Int64?
    public var pids: Int64?
    public var cpuQuota: Int64?
    public var cpuPeriod: Int64?
    /// v1 cpu.shares, or the v2 cpu.weight.
    public var cpuShares: Int64?
    public var cpuWeight: Int64?
    public var cpus: String?
    public var mems: String?

    /// `paths`: hierarchy key → the container's directory in it.
    static func read(_ paths: [String: String], file: (String) -> String? = readFile) -> CgroupLimits {
        var l = CgroupLimits()
        func v1(_ controller: String, _ name: String) -> String? {
            Cgroups.v1Dir(paths, controller).flatMap { file($0 + "/" + name) }
        }
        func v2(_ name: String) -> String? { paths["unified"].flatMap { file($0 + "/" + name) } }
        l.memory = (v1("memory", "memory.limit_in_bytes") ?? v2("memory.max")).map(limit)
        l.pids = (v1("pids", "pids.max") ?? v2("pids.max")).map(limit)
        if let quota = v1("cpu", "cpu.cfs_quota_us") {
            l.cpuQuota = limit(quota)
            l.cpuPeriod = v1("cpu", "cpu.cfs_period_us").flatMap { Int64($0) }
            l.cpuShares = v1("cpu", "cpu.shares").flatMap { Int64($0) }
        } else if let max = v2("cpu.max") {
            let parts = max.split(separator: " ")
            l.cpuQuota = parts.first.map { limit(String($0)) }
            l.cpuPeriod = parts.count > 1 ? Int64(parts[1]) : nil
            l.cpuWeight = v2("cpu.weight").flatMap { Int64($0) }
        }
        l.cpus = v1("cpuset", "cpuset.cpus") ?? v2("cpuset.cpus.effective")
        l.mems = v1("cpuset", "cpuset.mems") ?? v2("cpuset.mems.effective")
        return l
    }

    /// "max", -1 and v1's page-rounded LONG_MAX ("9223372036854771712") are no limit.
    static func limit(_ text: String) -> Int64 {
        guard let v = Int64(text), v >= 0, v < 1 << 62 else { return -1 }
        return v
    }

    private static func readFile(_ path: String) -> String? {
        guard let text = try? FS.readString(path) else { return nil }
        return String(text.split(separator: "\n").first ?? "")
    }

    public var json: JSONValue {
        func object(_ pairs: [(String, JSONValue?)]) -> JSONValue? {
            let members = pairs.compactMap { k, v in v.map { (k, $0) } }
            return members.isEmpty ? nil : .object(JSONObject(members.map { (key: $0.0, value: $0.1) }))
        }
        var b = ObjectBuilder()
        b.set("memory", object([("limit", memory.map { .int($0) })]))
        b.set("pids", object([("limit", pids.map { .int($0) })]))
        b.set("cpu", object([("quota", cpuQuota.map { .int($0) }), ("period", cpuPeriod.map { .int($0) }),
                             ("shares", cpuShares.map { .int($0) }), ("weight", cpuWeight.map { .int($0) })]))
        b.set("cpuset", object([("cpus", cpus.map { .string($0) }), ("mems", mems.map { .string($0) })]))
        return b.json
    }
}
