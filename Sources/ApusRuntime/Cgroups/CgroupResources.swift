import ApusSpec
import Glibc

/// Applies `linux.resources` to the container's cgroups. Only what is
/// implemented is accepted; anything else is rejected with its JSON path
/// (the full resource set is the cgroups work still to come).
enum CgroupResources {
    /// Devices every container may use whatever its rules say, as in runc.
    static let defaultAllowed = [
        "c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 5:0 rwm", "c 1:9 rwm",
        "c 1:8 rwm", "c 136:* rwm", "c 5:2 rwm", "c 10:200 rwm",
    ]

    static func apply(_ r: Resources?, devices: [LinuxDevice]?, paths: [String: String]) throws {
        if let first = unsupported(r).first { throw first }
        try applyDevices(r?.devices, devices: devices, paths: paths)
        if let limit = r?.pids?.limit {
            let value = limit > 0 ? String(limit) : "max"
            if let dir = paths["pids"] { try FS.write(dir + "/pids.max", value) }
            else if let dir = try v2Dir(paths, controller: "pids") { try FS.write(dir + "/pids.max", value) }
            else { throw RuntimeError.unsupported(path: "linux.resources.pids", reason: "no pids cgroup controller on this host") }
        }
        if let memory = r?.memory, memory.limit != nil || memory.swap != nil { try applyMemory(memory, paths: paths) }
        if let cpu = r?.cpu { try applyCPU(cpu, paths: paths) }
    }

    private static func unsupported(_ path: String, _ reason: String) -> RuntimeError {
        RuntimeError.unsupported(path: "linux.resources." + path, reason: reason)
    }

    private static func applyMemory(_ m: MemoryResources, paths: [String: String]) throws {
        if let dir = Cgroups.v1Dir(paths, "memory") {
            // A new cgroup is unlimited: the limit goes first, then memsw (which must be >= it).
            if let limit = m.limit { try FS.write(dir + "/memory.limit_in_bytes", String(limit)) }
            if let swap = m.swap {
                guard FS.exists(dir + "/memory.memsw.limit_in_bytes") else {
                    throw unsupported("memory.swap", "this kernel has no swap accounting (memory.memsw.* is missing)")
                }
                try FS.write(dir + "/memory.memsw.limit_in_bytes", String(swap))
            }
        } else if let dir = try v2Dir(paths, controller: "memory") {
            if let limit = m.limit { try FS.write(dir + "/memory.max", limit < 0 ? "max" : String(limit)) }
            if let swap = m.swap {
                // The spec's swap is memory+swap (v1's memsw); v2 limits swap alone.
                let value: String
                if swap < 0 { value = "max" } else {
                    guard let limit = m.limit, limit >= 0, swap >= limit else {
                        throw unsupported("memory.swap", "on cgroup v2 it needs a memory.limit no larger than it")
                    }
                    value = String(swap - limit)
                }
                try FS.write(dir + "/memory.swap.max", value)
            }
        } else {
            throw unsupported("memory", "no memory cgroup controller on this host")
        }
    }

    private static func applyCPU(_ c: CPUResources, paths: [String: String]) throws {
        if c.cpus != nil || c.mems != nil {
            let dir = try Cgroups.v1Dir(paths, "cpuset") ?? v2Dir(paths, controller: "cpuset")
            guard let dir else { throw unsupported("cpu.cpus", "no cpuset cgroup controller on this host") }
            if let cpus = c.cpus, !cpus.isEmpty { try FS.write(dir + "/cpuset.cpus", cpus) }
            if let mems = c.mems, !mems.isEmpty { try FS.write(dir + "/cpuset.mems", mems) }
        }
        let wantsCPU = c.shares != nil || c.quota != nil || c.period != nil || c.burst != nil
            || c.realtimeRuntime != nil || c.realtimePeriod != nil || c.idle != nil
        guard wantsCPU else { return }
        if let dir = Cgroups.v1Dir(paths, "cpu") {
            if c.idle != nil { throw unsupported("cpu.idle", "needs cgroup v2") }
            if let shares = c.shares, shares > 0 { try FS.write(dir + "/cpu.shares", String(shares)) }
            // The period first: the kernel checks the quota against it.
            if let period = c.period, period > 0 { try FS.write(dir + "/cpu.cfs_period_us", String(period)) }
            if let quota = c.quota, quota != 0 { try FS.write(dir + "/cpu.cfs_quota_us", String(quota)) }
            if let burst = c.burst {
                guard FS.exists(dir + "/cpu.cfs_burst_us") else { throw unsupported("cpu.burst", "this kernel has no cpu.cfs_burst_us") }
                try FS.write(dir + "/cpu.cfs_burst_us", String(burst))
            }
            if let p = c.realtimePeriod, p > 0 { try FS.write(dir + "/cpu.rt_period_us", String(p)) }
            if let r = c.realtimeRuntime, r != 0 { try FS.write(dir + "/cpu.rt_runtime_us", String(r)) }
        } else if let dir = try v2Dir(paths, controller: "cpu") {
            if c.realtimeRuntime != nil || c.realtimePeriod != nil {
                throw unsupported("cpu.realtimeRuntime", "real-time scheduling limits need cgroup v1")
            }
            // runc's conversion of v1 shares (2...262144) to a v2 weight (1...10000).
            if let shares = c.shares, shares > 0 {
                try FS.write(dir + "/cpu.weight", String(1 + ((max(shares, 2) - 2) * 9999) / 262142))
            }
            if c.quota != nil || c.period != nil {
                let quota = c.quota.map { $0 > 0 ? String($0) : "max" } ?? "max"
                try FS.write(dir + "/cpu.max", "\(quota) \(c.period.map { $0 > 0 ? $0 : 100_000 } ?? 100_000)")
            }
            if let burst = c.burst { try FS.write(dir + "/cpu.max.burst", String(burst)) }
            if let idle = c.idle { try FS.write(dir + "/cpu.idle", String(idle)) }
        } else {
            throw unsupported("cpu", "no cpu cgroup controller on this host")
        }
    }

    /// The container's v2 cgroup with `controller` enabled for it, or nil
    /// where cgroup v2 does not offer that controller.
    private static func v2Dir(_ paths: [String: String], controller: String) throws -> String? {
        guard let dir = paths["unified"], try Cgroups.enableV2Controller(controller, for: dir) else { return nil }
        return dir
    }

    /// Resource properties Apus does not apply yet (empty if none).
    static func unsupported(_ r: Resources?) -> [RuntimeError] {
        guard let r else { return [] }
        var out: [RuntimeError] = []
        func reject(_ path: String, _ present: Bool) {
            if present { out.append(.unsupported(path: "linux.resources." + path, reason: "not supported by this version of apus yet")) }
        }
        if let m = r.memory {
            reject("memory.reservation", m.reservation != nil)
            reject("memory.kernel", m.kernel != nil)
            reject("memory.kernelTCP", m.kernelTCP != nil)
            reject("memory.swappiness", m.swappiness != nil)
            reject("memory.disableOOMKiller", m.disableOOMKiller == true)
        }
        reject("blockIO", r.blockIO != nil)
        reject("hugepageLimits", !(r.hugepageLimits ?? []).isEmpty)
        reject("network", r.network != nil)
        reject("rdma", !(r.rdma ?? [:]).isEmpty)
        reject("unified", !(r.unified ?? [:]).isEmpty)
        return out
    }

    /// Everything `apply` would refuse on this host, found without writing
    /// anything (`apus check`): unsupported properties, and controllers the
    /// host's cgroup layout does not offer (v1 first, as `apply` chooses).
    static func problems(_ r: Resources?, hierarchies: [Cgroups.Hierarchy]) -> [RuntimeError] {
        guard let r else { return [] }
        var out = unsupported(r)
        let v1 = { (c: String) in hierarchies.first { $0.key != "unified" && $0.key.split(separator: ",").contains(Substring(c)) } }
        let v2 = hierarchies.first { $0.key == "unified" }
            .flatMap { try? FS.readString($0.mountPoint + "/cgroup.controllers") }?
            .split(whereSeparator: { $0 == " " || $0 == "\n" }) ?? []
        func need(_ controller: String, for path: String, _ present: Bool) {
            if present && v1(controller) == nil && !v2.contains(Substring(controller)) {
                out.append(unsupported(path, "no \(controller) cgroup controller on this host"))
            }
        }
        need("pids", for: "pids", r.pids != nil)
        need("memory", for: "memory", r.memory?.limit != nil || r.memory?.swap != nil)
        if r.memory?.swap != nil, let h = v1("memory"), !FS.exists(h.mountPoint + "/memory.memsw.limit_in_bytes") {
            out.append(unsupported("memory.swap", "this kernel has no swap accounting (memory.memsw.* is missing)"))
        }
        if let c = r.cpu {
            need("cpuset", for: "cpu.cpus", c.cpus != nil || c.mems != nil)
            let wantsCPU = c.shares != nil || c.quota != nil || c.period != nil || c.burst != nil
                || c.realtimeRuntime != nil || c.realtimePeriod != nil || c.idle != nil
            need("cpu", for: "cpu", wantsCPU)
            if v1("cpu") != nil, c.idle != nil { out.append(unsupported("cpu.idle", "needs cgroup v2")) }
            if v1("cpu") == nil, v2.contains("cpu"), c.realtimeRuntime != nil || c.realtimePeriod != nil {
                out.append(unsupported("cpu.realtimeRuntime", "real-time scheduling limits need cgroup v1"))
            }
        }
        out += DeviceRules.problems(r.devices, hierarchies: hierarchies)
        return out
    }

    static let devicesNeedV1 = RuntimeError.unsupported(
        path: "linux.resources.devices",
        reason: "device rules need the cgroup v1 devices controller (cgroup v2 device filtering is not supported yet)")

    private static func rule(_ d: DeviceCgroupRule) -> String {
        let type = (d.type ?? "a").isEmpty ? "a" : (d.type ?? "a")
        let major = d.major.map(String.init) ?? "*"
        let minor = d.minor.map(String.init) ?? "*"
        let access = (d.access ?? "rwm").isEmpty ? "rwm" : (d.access ?? "rwm")
        return type == "a" ? "a *:* \(access)" : "\(type) \(major):\(minor) \(access)"
    }

    private static func applyDevices(_ rules: [DeviceCgroupRule]?, devices: [LinuxDevice]?, paths: [String: String]) throws {
        try DeviceRules.apply(rules, paths: paths)
    }
}
