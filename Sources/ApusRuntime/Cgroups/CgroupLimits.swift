import ApusSpec

/// The limits in force in a container's cgroups, read back from the cgroup
/// files of this host's layout (a v1 hierarchy first, else cgroup v2, as
/// CgroupPlan applies them), in linux.resources' terms and units so `apus
/// inspect` shows the same numbers as config.json after create or update.
/// -1 means "no limit" (as in config.json); nil, that the host has no such
/// controller or file for the container.
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
    public var memoryReservation: Int64?
    /// memory+swap, as the spec's `swap` (v2: memory.max + memory.swap.max).
    public var memorySwap: Int64?
    public var swappiness: Int64?
    public var disableOOMKiller: Bool?
    public var cpuBurst: Int64?
    public var cpuRealtimeRuntime: Int64?
    public var cpuRealtimePeriod: Int64?
    public var cpuIdle: Int64?
    /// The blkio weight (v1), io.bfq.weight or io.weight default (v2, io.weight in its own 1...10000 scale).
    public var blockIOWeight: Int64?
    /// Throttle list key (throttleReadBpsDevice, ...) → "major:minor rate" entries.
    public var blockIOThrottle: [String: [String]] = [:]
    /// Page size ("2MB") → limit in bytes.
    public var hugepageLimits: [String: Int64] = [:]

    /// `paths`: hierarchy key → the container's directory in it. `file`
    /// returns a file's text without its last newline.
    static func read(_ paths: [String: String], hugePageSizes: [String] = CgroupHost.kernelHugePageSizes(),
                     file: (String) -> String? = readFile) -> CgroupLimits {
        var l = CgroupLimits()
        func v1(_ controller: String, _ name: String) -> String? {
            Cgroups.v1Dir(paths, controller).flatMap { file($0 + "/" + name) }
        }
        func v2(_ name: String) -> String? { paths["unified"].flatMap { file($0 + "/" + name) } }
        let number = { (s: String?) in s.flatMap { Int64(firstLine($0)) } }
        l.memory = (v1("memory", "memory.limit_in_bytes") ?? v2("memory.max")).map(limit)
        l.pids = (v1("pids", "pids.max") ?? v2("pids.max")).map(limit)
        if Cgroups.v1Dir(paths, "memory") != nil {
            l.memoryReservation = v1("memory", "memory.soft_limit_in_bytes").map(limit)
            l.memorySwap = v1("memory", "memory.memsw.limit_in_bytes").map(limit)
            l.swappiness = number(v1("memory", "memory.swappiness"))
            l.disableOOMKiller = v1("memory", "memory.oom_control").map { $0.split(separator: "\n").contains("oom_kill_disable 1") }
        } else {
            l.memoryReservation = v2("memory.low").map(limit)
            if let swap = v2("memory.swap.max").map(limit), let mem = l.memory {
                l.memorySwap = swap < 0 || mem < 0 ? -1 : mem + swap
            }
        }
        if let quota = v1("cpu", "cpu.cfs_quota_us") {
            l.cpuQuota = limit(quota)
            l.cpuPeriod = number(v1("cpu", "cpu.cfs_period_us"))
            l.cpuShares = number(v1("cpu", "cpu.shares"))
            l.cpuBurst = number(v1("cpu", "cpu.cfs_burst_us"))
            l.cpuRealtimeRuntime = number(v1("cpu", "cpu.rt_runtime_us"))
            l.cpuRealtimePeriod = number(v1("cpu", "cpu.rt_period_us"))
            l.cpuIdle = number(v1("cpu", "cpu.idle"))
        } else if let max = v2("cpu.max") {
            let parts = max.split(separator: " ")
            l.cpuQuota = parts.first.map { limit(String($0)) }
            l.cpuPeriod = parts.count > 1 ? Int64(parts[1]) : nil
            l.cpuWeight = number(v2("cpu.weight"))
            l.cpuBurst = number(v2("cpu.max.burst"))
            l.cpuIdle = number(v2("cpu.idle"))
        }
        l.cpus = v1("cpuset", "cpuset.cpus") ?? v2("cpuset.cpus.effective")
        l.mems = v1("cpuset", "cpuset.mems") ?? v2("cpuset.mems.effective")
        readBlockIO(&l, v1: { v1("blkio", $0) }, v2: Cgroups.v1Dir(paths, "blkio") == nil ? v2 : { _ in nil })
        for size in hugePageSizes {
            let hierarchy = Cgroups.v1Dir(paths, "hugetlb") != nil
            let text = hierarchy ? v1("hugetlb", HugeTLB.files(pageSize: size, v2: false).limit) : v2(HugeTLB.files(pageSize: size, v2: true).limit)
            if let text { l.hugepageLimits[size] = limit(firstLine(text)) }
        }
        return l
    }

    private static func readBlockIO(_ l: inout CgroupLimits, v1: (String) -> String?, v2: (String) -> String?) {
        if let w = v1("blkio.weight") ?? v1("blkio.bfq.weight") { l.blockIOWeight = Int64(firstLine(w)) }
        for t in CgroupPlan.throttles {
            if let text = v1(t.v1) { l.blockIOThrottle[t.key] = text.split(separator: "\n").map(String.init) }
        }
        if let w = v2("io.bfq.weight") ?? v2("io.weight") {
            // "default 100" (a per-device list may follow)
            l.blockIOWeight = Int64(firstLine(w).split(separator: " ").last ?? "")
        }
        guard let ioMax = v2("io.max") else { return }
        for t in CgroupPlan.throttles { l.blockIOThrottle[t.key] = [] }
        for line in ioMax.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let device = fields.first else { continue }
            for kv in fields.dropFirst() {
                let pair = kv.split(separator: "=", maxSplits: 1)
                guard pair.count == 2, pair[1] != "max", let t = CgroupPlan.throttles.first(where: { $0.v2 == pair[0] }) else { continue }
                l.blockIOThrottle[t.key, default: []].append("\(device) \(pair[1])")
            }
        }
    }

    /// "max", -1 and v1's page-rounded LONG_MAX ("9223372036854771712") are no limit.
    static func limit(_ text: String) -> Int64 {
        guard let v = Int64(firstLine(text)), v >= 0, v < 1 << 62 else { return -1 }
        return v
    }

    private static func firstLine(_ text: String) -> String {
        String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
    }

    private static func readFile(_ path: String) -> String? {
        guard let text = try? FS.readString(path) else { return nil }
        return text.hasSuffix("\n") ? String(text.dropLast()) : text
    }

    public var json: JSONValue {
        func object(_ pairs: [(String, JSONValue?)]) -> JSONValue? {
            let members = pairs.compactMap { k, v in v.map { (k, $0) } }
            return members.isEmpty ? nil : .object(JSONObject(members.map { (key: $0.0, value: $0.1) }))
        }
        let int = { (v: Int64?) in v.map { JSONValue.int($0) } }
        var b = ObjectBuilder()
        b.set("memory", object([("limit", int(memory)), ("reservation", int(memoryReservation)), ("swap", int(memorySwap)),
                                ("swappiness", int(swappiness)), ("disableOOMKiller", disableOOMKiller.map { .bool($0) })]))
        b.set("pids", object([("limit", int(pids))]))
        b.set("cpu", object([("quota", int(cpuQuota)), ("period", int(cpuPeriod)), ("shares", int(cpuShares)), ("weight", int(cpuWeight)),
                             ("burst", int(cpuBurst)), ("realtimeRuntime", int(cpuRealtimeRuntime)),
                             ("realtimePeriod", int(cpuRealtimePeriod)), ("idle", int(cpuIdle))]))
        b.set("cpuset", object([("cpus", cpus.map { .string($0) }), ("mems", mems.map { .string($0) })]))
        b.set("blockIO", object([("weight", int(blockIOWeight))] + CgroupPlan.throttles.map { t in
            (t.key, blockIOThrottle[t.key].map { .array($0.map { .string($0) }) })
        }))
        if !hugepageLimits.isEmpty {
            let entries: [JSONValue] = hugepageLimits.sorted { $0.key < $1.key }.compactMap { k, v in
                object([("pageSize", .string(k)), ("limit", .int(v))])
            }
            b.set("hugepageLimits", JSONValue.array(entries))
        }
        return b.json
    }
}
