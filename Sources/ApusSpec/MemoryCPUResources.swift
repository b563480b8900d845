/// `linux.resources.memory`. Limits are bytes, -1 meaning unlimited.
public struct MemoryResources: JSONCodable, Equatable {
    public var limit: Int64?
    public var reservation: Int64?
    /// Memory+swap, as in cgroup v1 `memory.memsw.limit_in_bytes`.
    public var swap: Int64?
    public var kernel: Int64?
    public var kernelTCP: Int64?
    public var swappiness: UInt64?
    public var disableOOMKiller: Bool?
    public var useHierarchy: Bool?
    public var checkBeforeUpdate: Bool?

    public init(limit: Int64? = nil, reservation: Int64? = nil, swap: Int64? = nil) {
        self.limit = limit
        self.reservation = reservation
        self.swap = swap
    }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        limit = try r.optional("limit")
        reservation = try r.optional("reservation")
        swap = try r.optional("swap")
        kernel = try r.optional("kernel")
        kernelTCP = try r.optional("kernelTCP")
        swappiness = try r.optional("swappiness")
        disableOOMKiller = try r.optional("disableOOMKiller")
        useHierarchy = try r.optional("useHierarchy")
        checkBeforeUpdate = try r.optional("checkBeforeUpdate")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("limit", limit)
        b.set("reservation", reservation)
        b.set("swap", swap)
        b.set("kernel", kernel)
        b.set("kernelTCP", kernelTCP)
        b.set("swappiness", swappiness)
        b.set("disableOOMKiller", disableOOMKiller)
        b.set("useHierarchy", useHierarchy)
        b.set("checkBeforeUpdate", checkBeforeUpdate)
        return b.json
    }
}

/// `linux.resources.cpu` (cpu and cpuset controllers). Times are microseconds.
public struct CPUResources: JSONCodable, Equatable {
    public var shares: UInt64?
    public var quota: Int64?
    public var burst: UInt64?
    public var period: UInt64?
    public var realtimeRuntime: Int64?
    public var realtimePeriod: UInt64?
    /// CPU list such as "0-3,7" (see `CPUList`).
    public var cpus: String?
    /// Memory node list, same syntax as `cpus`.
    public var mems: String?
    public var idle: Int64?

    public init(shares: UInt64? = nil, quota: Int64? = nil, period: UInt64? = nil, cpus: String? = nil, mems: String? = nil) {
        self.shares = shares
        self.quota = quota
        self.period = period
        self.cpus = cpus
        self.mems = mems
    }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        shares = try r.optional("shares")
        quota = try r.optional("quota")
        burst = try r.optional("burst")
        period = try r.optional("period")
        realtimeRuntime = try r.optional("realtimeRuntime")
        realtimePeriod = try r.optional("realtimePeriod")
        cpus = try r.optional("cpus")
        mems = try r.optional("mems")
        idle = try r.optional("idle")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("shares", shares)
        b.set("quota", quota)
        b.set("burst", burst)
        b.set("period", period)
        b.set("realtimeRuntime", realtimeRuntime)
        b.set("realtimePeriod", realtimePeriod)
        b.set("cpus", cpus)
        b.set("mems", mems)
        b.set("idle", idle)
        return b.json
    }
}
