import ApusSpec

/// `CgroupStats` as runc 1.1 prints it: types.Stats, the `data` of a
/// "stats" event. Go writes every member of a struct, `omitempty` ones
/// only when non-zero (an `omitempty` struct is never left out in 1.1).
extension CgroupStats {
    /// The fields in runc's order; `omitempty` ones left out when zero or
    /// empty. `intel_rdt` is runc's empty object (Apus manages no RDT
    /// group); `network` is the `network_interfaces` value.
    func json(network: JSONValue) -> JSONValue {
        var b = GoObject()
        b.set("cpu", cpuJSON)
        b.set("cpuset", cpusetJSON)
        b.set("memory", memoryJSON)
        var pids = GoObject()
        pids.omitEmpty("current", pidsCurrent)
        pids.omitEmpty("limit", pidsLimit)
        b.set("pids", pids.json)
        b.set("blkio", blkioJSON)
        var huge = GoObject()
        for size in hugetlb.keys.sorted() {
            let h = hugetlb[size]!
            var e = GoObject()
            e.omitEmpty("usage", h.usage)
            e.omitEmpty("max", h.max)
            e.set("failcnt", h.failcnt)
            huge.set(size, e.json)
        }
        b.set("hugetlb", huge.json)
        b.set("intel_rdt", GoObject().json)
        b.set("network_interfaces", network)
        return b.json
    }

    private var cpuJSON: JSONValue {
        var usage = GoObject()
        usage.omitEmpty("total", cpu.total)
        usage.omitEmpty("percpu", cpu.percpu)
        usage.omitEmpty("percpu_kernel", cpu.percpuKernel)
        usage.omitEmpty("percpu_user", cpu.percpuUser)
        usage.set("kernel", cpu.kernel)
        usage.set("user", cpu.user)
        var throttling = GoObject()
        throttling.omitEmpty("periods", cpu.periods)
        throttling.omitEmpty("throttledPeriods", cpu.throttledPeriods)
        throttling.omitEmpty("throttledTime", cpu.throttledTime)
        var b = GoObject()
        b.set("usage", usage.json)
        b.set("throttling", throttling.json)
        return b.json
    }

    private var cpusetJSON: JSONValue {
        var b = GoObject()
        b.omitEmpty("cpus", cpuset.cpus)
        b.set("cpu_exclusive", cpuset.flags["cpu_exclusive"] ?? 0)
        b.omitEmpty("mems", cpuset.mems)
        for name in CPUSet.flagNames.dropFirst() { b.set(name, cpuset.flags[name] ?? 0) }
        b.set("sched_relax_domain_level", .int(cpuset.schedRelaxDomainLevel))
        return b.json
    }

    private var memoryJSON: JSONValue {
        func entry(_ e: MemoryEntry) -> JSONValue {
            var b = GoObject()
            b.set("limit", e.limit)
            b.omitEmpty("usage", e.usage)
            b.omitEmpty("max", e.max)
            b.set("failcnt", e.failcnt)
            return b.json
        }
        var b = GoObject()
        b.omitEmpty("cache", memory.cache)
        b.set("usage", entry(memory.usage))
        b.set("swap", entry(memory.swap))
        b.set("kernel", entry(memory.kernel))
        b.set("kernelTCP", entry(memory.kernelTCP))
        if !memory.raw.isEmpty {
            var raw = GoObject()
            for key in memory.raw.keys.sorted() { raw.set(key, memory.raw[key]!) }
            b.set("raw", raw.json)
        }
        return b.json
    }

    private var blkioJSON: JSONValue {
        func entries(_ list: Blkio.Entries) -> JSONValue {
            .array(list.map { e in
                var b = GoObject()
                b.omitEmpty("major", e.major)
                b.omitEmpty("minor", e.minor)
                if !e.op.isEmpty { b.set("op", .string(e.op)) }
                b.omitEmpty("value", e.value)
                return b.json
            })
        }
        var b = GoObject()
        let lists: [(String, Blkio.Entries)] = [
            ("ioServiceBytesRecursive", blkio.serviceBytes), ("ioServicedRecursive", blkio.serviced),
            ("ioQueueRecursive", blkio.queued), ("ioServiceTimeRecursive", blkio.serviceTime),
            ("ioWaitTimeRecursive", blkio.waitTime), ("ioMergedRecursive", blkio.merged),
            ("ioTimeRecursive", blkio.time), ("sectorsRecursive", blkio.sectors),
        ]
        for (key, list) in lists where !list.isEmpty { b.set(key, entries(list)) }
        return b.json
    }
}

/// A JSON object built the way Go's encoding/json writes a struct:
/// members in declaration order, `omitempty` ones only when non-zero.
struct GoObject {
    private var object = JSONObject()

    mutating func set(_ key: String, _ value: JSONValue) { object.members.append((key, value)) }
    mutating func set(_ key: String, _ value: UInt64) { set(key, .int(value)) }
    mutating func omitEmpty(_ key: String, _ value: UInt64) { if value != 0 { set(key, value) } }
    mutating func omitEmpty(_ key: String, _ values: [UInt64]) { if !values.isEmpty { set(key, .array(values.map { .int($0) })) } }

    var json: JSONValue { .object(object) }
}
