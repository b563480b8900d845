import ApusSpec

/// linux.resources.cpu: the cpu controller (shares/weight, CFS bandwidth,
/// burst, real-time, idle) and cpuset (cpus, mems). 0 and "" are unset.
extension CgroupPlan {
    /// runc's linear map of v1 shares (2...262144) to a v2 weight (1...10000).
    static func cpuWeight(shares: UInt64) -> UInt64 {
        1 + ((min(max(shares, 2), 262_144) - 2) * 9999) / 262_142
    }

    /// v2 cpu.max: "max" for no quota; without a period the kernel keeps its own.
    static func cpuMax(quota: Int64, period: UInt64) -> String {
        (quota > 0 ? String(quota) : "max") + (period != 0 ? " \(period)" : "")
    }

    mutating func cpu(_ c: CPUResources) {
        cpuset(c)
        let shares = c.shares ?? 0, quota = c.quota ?? 0, period = c.period ?? 0
        let rtRuntime = c.realtimeRuntime ?? 0, rtPeriod = c.realtimePeriod ?? 0
        guard shares != 0 || quota != 0 || period != 0 || c.burst != nil || rtRuntime != 0 || rtPeriod != 0 || c.idle != nil,
              let ctl = controller(v1: "cpu", v2: "cpu", for: "cpu") else { return }
        if ctl.v2 {
            if rtRuntime != 0 || rtPeriod != 0 {
                fail(rtRuntime != 0 ? "cpu.realtimeRuntime" : "cpu.realtimePeriod", "real-time group scheduling limits need cgroup v1")
            }
            if shares != 0 { write("cpu.shares", ctl, "cpu.weight", String(Self.cpuWeight(shares: shares))) }
            if let idle = c.idle { write("cpu.idle", ctl, "cpu.idle", String(idle)) }
            if let burst = c.burst, require(ctl, "cpu.max.burst", for: "cpu.burst", "this kernel has no cpu.max.burst") {
                write("cpu.burst", ctl, "cpu.max.burst", String(burst))
            }
            if quota != 0 || period != 0 { write(quota != 0 ? "cpu.quota" : "cpu.period", ctl, "cpu.max", Self.cpuMax(quota: quota, period: period)) }
            return
        }
        if shares != 0 {
            // The kernel clamps silently; runc reads back and refuses.
            if shares < 2 { fail("cpu.shares", "the minimum allowed cpu-shares is 2") } else if shares > 262_144 {
                fail("cpu.shares", "the maximum allowed cpu-shares is 262144")
            } else { write("cpu.shares", ctl, "cpu.shares", String(shares)) }
        }
        // The period first: the kernel checks the quota against it.
        if period != 0 { write("cpu.period", ctl, "cpu.cfs_period_us", String(period)) }
        if quota != 0 { write("cpu.quota", ctl, "cpu.cfs_quota_us", String(quota)) }
        if let burst = c.burst, require(ctl, "cpu.cfs_burst_us", for: "cpu.burst", "this kernel has no cpu.cfs_burst_us") {
            write("cpu.burst", ctl, "cpu.cfs_burst_us", String(burst))
        }
        if rtPeriod != 0, require(ctl, "cpu.rt_period_us", for: "cpu.realtimePeriod", "this kernel has no real-time group scheduling (CONFIG_RT_GROUP_SCHED)") {
            write("cpu.realtimePeriod", ctl, "cpu.rt_period_us", String(rtPeriod))
        }
        if rtRuntime != 0, require(ctl, "cpu.rt_runtime_us", for: "cpu.realtimeRuntime", "this kernel has no real-time group scheduling (CONFIG_RT_GROUP_SCHED)") {
            write("cpu.realtimeRuntime", ctl, "cpu.rt_runtime_us", String(rtRuntime))
        }
        if let idle = c.idle, require(ctl, "cpu.idle", for: "cpu.idle", "this kernel has no cpu.idle on cgroup v1") {
            write("cpu.idle", ctl, "cpu.idle", String(idle))
        }
    }

    private mutating func cpuset(_ c: CPUResources) {
        let cpus = c.cpus.flatMap { $0.isEmpty ? nil : $0 }, mems = c.mems.flatMap { $0.isEmpty ? nil : $0 }
        guard cpus != nil || mems != nil,
              let ctl = controller(v1: "cpuset", v2: "cpuset", for: cpus != nil ? "cpu.cpus" : "cpu.mems") else { return }
        if let cpus { write("cpu.cpus", ctl, "cpuset.cpus", cpus) }
        if let mems { write("cpu.mems", ctl, "cpuset.mems", mems) }
    }
}
