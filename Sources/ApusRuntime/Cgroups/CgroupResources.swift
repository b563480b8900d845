import ApusSpec
import Glibc

/// Applies `linux.resources` to the container's cgroups: the device rules
/// here, every other controller family through `CgroupPlan` (one file each:
/// CgroupMemory, CgroupCPU, CgroupPids, CgroupBlockIO, CgroupHugetlb,
/// CgroupNetwork, CgroupUnified). A value the host cannot apply is an error
/// naming its JSON path.
enum CgroupResources {
    /// Applies everything but the device rules only once the whole plan is
    /// known to fit the host, so a refused value leaves the cgroups as they were.
    static func apply(_ r: Resources?, paths: [String: String], log: Logger? = nil) throws {
        let plan = CgroupPlan.make(r ?? Resources(), host: .live(paths))
        if let first = plan.errors.first { throw first }
        try DeviceRules.apply(r?.devices, paths: paths)
        for w in plan.warnings { log?.warning(w) }
        try plan.run()
    }

    /// Everything `apply` would refuse on this host, found without writing
    /// anything (`apus check`): values the host's cgroup layout and kernel
    /// cannot apply (v1 first, as `apply` chooses).
    static func problems(_ r: Resources?, hierarchies: [Cgroups.Hierarchy]) -> [RuntimeError] {
        guard let r else { return [] }
        var out = CgroupPlan.make(r, host: .roots(hierarchies)).errors
        out += DeviceRules.problems(r.devices, hierarchies: hierarchies)
        return out
    }

    /// `apus update`: the device rules in force, applied again.
    static func reapplyDevices(_ rules: [DeviceCgroupRule]?, paths: [String: String]) throws {
        try DeviceRules.apply(rules, paths: paths)
    }
}
