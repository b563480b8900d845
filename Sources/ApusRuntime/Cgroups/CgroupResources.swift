import ApusSpec
import Glibc

/// Applies `linux.resources` to the container's cgroups: the device rules
/// here, every other controller family through `CgroupPlan` (one file each:
/// CgroupMemory, CgroupCPU, CgroupPids, CgroupBlockIO, CgroupHugetlb,
/// CgroupNetwork, CgroupUnified). A value the host cannot apply is an error
/// naming its JSON path.
enum CgroupResources {
    /// Devices every container may use whatever its rules say, as in runc.
    static let defaultAllowed = [
        "c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 5:0 rwm", "c 1:9 rwm",
        "c 1:8 rwm", "c 136:* rwm", "c 5:2 rwm", "c 10:200 rwm",
    ]

    /// Applies everything but the device rules only once the whole plan is
    /// known to fit the host, so a refused value leaves the cgroups as they were.
    static func apply(_ r: Resources?, devices: [LinuxDevice]?, paths: [String: String], log: Logger? = nil) throws {
        let plan = CgroupPlan.make(r ?? Resources(), host: .live(paths))
        if let first = plan.errors.first { throw first }
        try applyDevices(r?.devices, devices: devices, paths: paths)
        for w in plan.warnings { log?.warning(w) }
        try plan.run()
    }

    /// Everything `apply` would refuse on this host, found without writing
    /// anything (`apus check`): values the host's cgroup layout and kernel
    /// cannot apply (v1 first, as `apply` chooses).
    static func problems(_ r: Resources?, hierarchies: [Cgroups.Hierarchy]) -> [RuntimeError] {
        guard let r else { return [] }
        var out = CgroupPlan.make(r, host: .roots(hierarchies)).errors
        let v1 = { (c: String) in hierarchies.first { $0.key != "unified" && $0.key.split(separator: ",").contains(Substring(c)) } }
        if !(r.devices ?? []).isEmpty && v1("devices") == nil { out.append(devicesNeedV1) }
        return out
    }

    /// `apus update`: the device rules in force, applied again.
    static func reapplyDevices(_ rules: [DeviceCgroupRule]?, devices: [LinuxDevice]?, paths: [String: String]) throws {
        try applyDevices(rules, devices: devices, paths: paths)
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
        guard let rules, !rules.isEmpty else { return }
        guard let dir = paths["devices"] else { throw devicesNeedV1 }
        for d in rules {
            try FS.write(dir + (d.allow ? "/devices.allow" : "/devices.deny"), rule(d))
        }
        for entry in defaultAllowed { try FS.write(dir + "/devices.allow", entry) }
        for d in devices ?? [] where d.type != "p" {
            try FS.write(dir + "/devices.allow", "\(d.type == "u" ? "c" : d.type) \(d.major ?? 0):\(d.minor ?? 0) rwm")
        }
    }
}
