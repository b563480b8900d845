import ApusSpec

/// A container's resource usage, read from its cgroup files where this
/// host's layout puts each controller (a v1 hierarchy first, else the
/// cgroup2 directory), with runc's conversions: the `data` of
/// `apus events` (runc's types.Stats; CgroupStatsJSON.swift prints it with runc's
/// field names and omissions). Zero means "not reported".
struct CgroupStats: Equatable {
    struct CPU: Equatable {
        /// Nanoseconds.
        var total: UInt64 = 0, kernel: UInt64 = 0, user: UInt64 = 0
        var percpu: [UInt64] = [], percpuKernel: [UInt64] = [], percpuUser: [UInt64] = []
        var periods: UInt64 = 0, throttledPeriods: UInt64 = 0, throttledTime: UInt64 = 0
    }

    struct CPUSet: Equatable {
        var cpus: [UInt64] = [], mems: [UInt64] = []
        /// cpuset.<name> → value, for runc's fixed list of flags.
        var flags: [String: UInt64] = [:]
        var schedRelaxDomainLevel: Int64 = 0
        static let flagNames = ["cpu_exclusive", "mem_hardwall", "mem_exclusive", "memory_migrate", "memory_spread_page",
                                "memory_spread_slab", "memory_pressure", "sched_load_balance"]
    }

    struct MemoryEntry: Equatable {
        var limit: UInt64 = 0, usage: UInt64 = 0, max: UInt64 = 0, failcnt: UInt64 = 0
    }

    struct Memory: Equatable {
        var cache: UInt64 = 0
        var usage = MemoryEntry(), swap = MemoryEntry(), kernel = MemoryEntry(), kernelTCP = MemoryEntry()
        /// memory.stat as it is (runc's "raw").
        var raw: [String: UInt64] = [:]
    }

    struct Blkio: Equatable {
        typealias Entries = [CgroupFile.DeviceValue]
        var serviceBytes: Entries = [], serviced: Entries = [], queued: Entries = [], serviceTime: Entries = []
        var waitTime: Entries = [], merged: Entries = [], time: Entries = [], sectors: Entries = []
    }

    struct Hugetlb: Equatable {
        var usage: UInt64 = 0, max: UInt64 = 0, failcnt: UInt64 = 0
    }

    var cpu = CPU()
    var cpuset = CPUSet()
    var memory = Memory()
    var pidsCurrent: UInt64 = 0
    /// 0 when there is no limit (runc's convention).
    var pidsLimit: UInt64 = 0
    var blkio = Blkio()
    /// Page size ("2MB") → usage.
    var hugetlb: [String: Hugetlb] = [:]

    /// `paths`: hierarchy key → the container's directory (state.json's
    /// cgroup paths); `hugePageSizes` as runc names them ("2MB"); `file`
    /// reads a whole file (nil when it cannot be read).
    static func read(_ paths: [String: String], hugePageSizes: [String], file: @escaping (String) -> String?) -> CgroupStats {
        var s = CgroupStats()
        let reader = Reader(paths: paths, file: file)
        reader.cpu(&s.cpu)
        if let dir = reader.v1("cpuset") { s.cpuset = reader.cpusetV1(dir) }
        if let dir = reader.v1("memory") {
            s.memory = reader.memoryV1(dir)
        } else if let dir = reader.v2(ifExists: "memory.stat") {
            s.memory = reader.memoryV2(dir)
        }
        (s.pidsCurrent, s.pidsLimit) = reader.pids()
        if let dir = reader.v1("blkio") {
            s.blkio = reader.blkioV1(dir)
        } else if let dir = reader.v2(ifExists: "io.stat") {
            let io = CgroupFile.ioStat(file(dir + "/io.stat") ?? "")
            s.blkio.serviceBytes = io.bytes
            s.blkio.serviced = io.ios
        }
        s.hugetlb = reader.hugetlb(hugePageSizes)
        return s
    }

    /// One controller's files in the container's directory.
    private struct Reader {
        let paths: [String: String]
        let file: (String) -> String?

        func v1(_ controller: String) -> String? { Cgroups.v1Dir(paths, controller) }

        /// The cgroup2 directory, if `name` can be read there.
        func v2(ifExists name: String) -> String? {
            paths["unified"].flatMap { file($0 + "/" + name) != nil ? $0 : nil }
        }

        func number(_ dir: String, _ name: String) -> UInt64 {
            file(dir + "/" + name).flatMap { CgroupFile.number($0) } ?? 0
        }

        func keyed(_ dir: String, _ name: String) -> [(key: String, value: UInt64)] {
            CgroupFile.keyed(file(dir + "/" + name) ?? "")
        }

        func cpu(_ c: inout CPU) {
            let v2 = paths["unified"]
            if let dir = v1("cpuacct") {
                // cpuacct.stat counts USER_HZ ticks (100 per second, as runc assumes).
                let ticks = keyed(dir, "cpuacct.stat")
                let ns = { (key: String) in (ticks.first { $0.key == key }?.value ?? 0) * 10_000_000 }
                c.user = ns("user")
                c.kernel = ns("system")
                c.total = number(dir, "cpuacct.usage")
                c.percpu = CgroupFile.numbers(file(dir + "/cpuacct.usage_percpu") ?? "")
                let modes = CgroupFile.usageAll(file(dir + "/cpuacct.usage_all") ?? "")
                (c.percpuUser, c.percpuKernel) = (modes.user, modes.system)
            } else if let dir = v2 {
                for (k, v) in keyed(dir, "cpu.stat") {
                    switch k {
                    case "usage_usec": c.total = v &* 1000
                    case "user_usec": c.user = v &* 1000
                    case "system_usec": c.kernel = v &* 1000
                    default: continue
                    }
                }
            }
            if let dir = v1("cpu") {
                for (k, v) in keyed(dir, "cpu.stat") {
                    switch k {
                    case "nr_periods": c.periods = v
                    case "nr_throttled": c.throttledPeriods = v
                    case "throttled_time": c.throttledTime = v
                    default: continue
                    }
                }
            } else if let dir = v2 {
                for (k, v) in keyed(dir, "cpu.stat") {
                    switch k {
                    case "nr_periods": c.periods = v
                    case "nr_throttled": c.throttledPeriods = v
                    case "throttled_usec": c.throttledTime = v &* 1000
                    default: continue
                    }
                }
            }
        }

        func cpusetV1(_ dir: String) -> CPUSet {
            var c = CPUSet()
            func ids(_ name: String) -> [UInt64] {
                let text = (file(dir + "/" + name) ?? "").split(separator: "\n").first.map(String.init) ?? ""
                return ((try? CPUList.parse(text)) ?? []).flatMap { $0.map { UInt64($0) } }
            }
            c.cpus = ids("cpuset.cpus")
            c.mems = ids("cpuset.mems")
            for name in CPUSet.flagNames { c.flags[name] = number(dir, "cpuset." + name) }
            c.schedRelaxDomainLevel = file(dir + "/cpuset.sched_relax_domain_level").flatMap(CgroupFile.signed) ?? 0
            return c
        }

        func memoryV1(_ dir: String) -> Memory {
            var m = Memory()
            guard let stat = file(dir + "/memory.stat") else { return m }
            m.raw = Dictionary(CgroupFile.keyed(stat).map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
            m.cache = m.raw["cache"] ?? 0
            func entry(_ prefix: String) -> MemoryEntry {
                MemoryEntry(limit: number(dir, prefix + ".limit_in_bytes"), usage: number(dir, prefix + ".usage_in_bytes"),
                            max: number(dir, prefix + ".max_usage_in_bytes"), failcnt: number(dir, prefix + ".failcnt"))
            }
            m.usage = entry("memory")
            // Optional in the kernel: absent files leave the entry empty, as in runc.
            for (prefix, path) in [("memory.memsw", \Memory.swap), ("memory.kmem", \Memory.kernel), ("memory.kmem.tcp", \Memory.kernelTCP)]
            where file(dir + "/" + prefix + ".usage_in_bytes") != nil {
                m[keyPath: path] = entry(prefix)
            }
            return m
        }

        /// v2 as runc reports it in v1's terms: swap is memory + swap, a
        /// limit "max" is UInt64.max, no failure counts.
        func memoryV2(_ dir: String) -> Memory {
            var m = Memory()
            m.raw = Dictionary(keyed(dir, "memory.stat").map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
            m.cache = m.raw["file"] ?? 0
            m.usage = MemoryEntry(limit: number(dir, "memory.max"), usage: number(dir, "memory.current"))
            if file(dir + "/memory.swap.current") != nil {
                let limit = number(dir, "memory.swap.max")
                m.swap = MemoryEntry(limit: limit == UInt64.max ? limit : limit &+ m.usage.limit,
                                     usage: number(dir, "memory.swap.current") &+ m.usage.usage)
            }
            return m
        }

        func pids() -> (current: UInt64, limit: UInt64) {
            let dir: String
            if let d = v1("pids") {
                dir = d
            } else if let d = paths["unified"] {
                // Without the v2 pids controller runc counts cgroup.procs.
                guard file(d + "/pids.current") != nil else {
                    return (UInt64((file(d + "/cgroup.procs") ?? "").split(separator: "\n").count), 0)
                }
                dir = d
            } else {
                return (0, 0)
            }
            let limit = number(dir, "pids.max")
            return (number(dir, "pids.current"), limit == UInt64.max ? 0 : limit)
        }

        /// runc's order: the first group of files (BFQ debug, BFQ, CFQ,
        /// throttle recursive, throttle) whose first file has entries.
        func blkioV1(_ dir: String) -> Blkio {
            typealias Group = [(String, WritableKeyPath<Blkio, Blkio.Entries>)]
            let recursive: (String) -> Group = { p in
                [(p + "sectors_recursive", \.sectors), (p + "io_service_time_recursive", \.serviceTime),
                 (p + "io_wait_time_recursive", \.waitTime), (p + "io_merged_recursive", \.merged),
                 (p + "io_queued_recursive", \.queued), (p + "time_recursive", \.time),
                 (p + "io_serviced_recursive", \.serviced), (p + "io_service_bytes_recursive", \.serviceBytes)]
            }
            let groups: [Group] = [
                recursive("blkio.bfq."),
                [("blkio.bfq.io_serviced_recursive", \.serviced), ("blkio.bfq.io_service_bytes_recursive", \.serviceBytes)],
                recursive("blkio."),
                [("blkio.throttle.io_serviced_recursive", \.serviced), ("blkio.throttle.io_service_bytes_recursive", \.serviceBytes)],
                [("blkio.throttle.io_serviced", \.serviced), ("blkio.throttle.io_service_bytes", \.serviceBytes)],
            ]
            for group in groups {
                var b = Blkio()
                for (i, (name, path)) in group.enumerated() {
                    let entries = CgroupFile.blkio(file(dir + "/" + name) ?? "")
                    if i == 0 && entries.isEmpty { break }
                    b[keyPath: path] = entries
                    if i == group.count - 1 { return b }
                }
            }
            return Blkio()
        }

        func hugetlb(_ sizes: [String]) -> [String: Hugetlb] {
            var out: [String: Hugetlb] = [:]
            for size in sizes {
                let prefix = "hugetlb." + size
                if let dir = v1("hugetlb") {
                    guard file(dir + "/" + prefix + ".usage_in_bytes") != nil else { continue }
                    out[size] = Hugetlb(usage: number(dir, prefix + ".usage_in_bytes"), max: number(dir, prefix + ".max_usage_in_bytes"),
                                        failcnt: number(dir, prefix + ".failcnt"))
                } else if let dir = v2(ifExists: prefix + ".current") {
                    let failcnt = CgroupFile.value(file(dir + "/" + prefix + ".events") ?? "", key: "max") ?? 0
                    out[size] = Hugetlb(usage: number(dir, prefix + ".current"), failcnt: failcnt)
                }
            }
            return out
        }
    }
}
