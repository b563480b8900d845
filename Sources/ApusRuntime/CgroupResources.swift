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
        try rejectUnsupported(r)
        try applyDevices(r?.devices, devices: devices, paths: paths)
        if let limit = r?.pids?.limit {
            let value = limit > 0 ? String(limit) : "max"
            if let dir = paths["pids"] { try FS.write(dir + "/pids.max", value) }
            else if let dir = try v2Dir(paths, controller: "pids") { try FS.write(dir + "/pids.max", value) }
            else { throw RuntimeError.unsupported(path: "linux.resources.pids", reason: "no pids cgroup controller on this host") }
        }
        if let limit = r?.memory?.limit {
            if let dir = paths["memory"] { try FS.write(dir + "/memory.limit_in_bytes", String(limit)) }
            else if let dir = try v2Dir(paths, controller: "memory") {
                try FS.write(dir + "/memory.max", limit < 0 ? "max" : String(limit))
            } else { throw RuntimeError.unsupported(path: "linux.resources.memory", reason: "no memory cgroup controller on this host") }
        }
    }

    /// The container's v2 cgroup with `controller` enabled for it, or nil
    /// where cgroup v2 does not offer that controller.
    private static func v2Dir(_ paths: [String: String], controller: String) throws -> String? {
        guard let dir = paths["unified"], try Cgroups.enableV2Controller(controller, for: dir) else { return nil }
        return dir
    }

    private static func rejectUnsupported(_ r: Resources?) throws {
        guard let r else { return }
        func reject(_ path: String, _ present: Bool) throws {
            if present { throw RuntimeError.unsupported(path: "linux.resources." + path, reason: "not supported by this version of apus yet") }
        }
        if let m = r.memory {
            try reject("memory.reservation", m.reservation != nil)
            try reject("memory.swap", m.swap != nil)
            try reject("memory.kernel", m.kernel != nil)
            try reject("memory.kernelTCP", m.kernelTCP != nil)
            try reject("memory.swappiness", m.swappiness != nil)
            try reject("memory.disableOOMKiller", m.disableOOMKiller == true)
        }
        try reject("cpu", r.cpu != nil)
        try reject("blockIO", r.blockIO != nil)
        try reject("hugepageLimits", !(r.hugepageLimits ?? []).isEmpty)
        try reject("network", r.network != nil)
        try reject("rdma", !(r.rdma ?? [:]).isEmpty)
        try reject("unified", !(r.unified ?? [:]).isEmpty)
    }

    private static func rule(_ d: DeviceCgroupRule) -> String {
        let type = (d.type ?? "a").isEmpty ? "a" : (d.type ?? "a")
        let major = d.major.map(String.init) ?? "*"
        let minor = d.minor.map(String.init) ?? "*"
        let access = (d.access ?? "rwm").isEmpty ? "rwm" : (d.access ?? "rwm")
        return type == "a" ? "a *:* \(access)" : "\(type) \(major):\(minor) \(access)"
    }

    private static func applyDevices(_ rules: [DeviceCgroupRule]?, devices: [LinuxDevice]?, paths: [String: String]) throws {
        guard let rules, !rules.isEmpty else { return }
        guard let dir = paths["devices"] else {
            throw RuntimeError.unsupported(path: "linux.resources.devices",
                                           reason: "device rules need the cgroup v1 devices controller (cgroup v2 device filtering is not supported yet)")
        }
        for d in rules {
            try FS.write(dir + (d.allow ? "/devices.allow" : "/devices.deny"), rule(d))
        }
        for entry in defaultAllowed { try FS.write(dir + "/devices.allow", entry) }
        for d in devices ?? [] where d.type != "p" {
            try FS.write(dir + "/devices.allow", "\(d.type == "u" ? "c" : d.type) \(d.major ?? 0):\(d.minor ?? 0) rwm")
        }
    }
}
