import ApusSpec
import Glibc

/// `linux.intelRdt` through the resctrl filesystem, as runc does: the
/// container's processes go in a resource group (`closID`, or the
/// container's id), whose `schemata` get `l3CacheSchema`, `memBwSchema` and
/// the `schemata` lines; with monitoring, also in `mon_groups/<id>`. The
/// group is removed on delete only when it is the container's own (no
/// closID). `root` is the resctrl mount point (a plain directory in tests).
struct Resctrl {
    let root: String

    /// The host's resctrl mount, or nil when there is none.
    static func mounted(_ mounts: [MountEntry] = MountEntry.current()) -> Resctrl? {
        mounts.first { $0.fsType == "resctrl" }.map { Resctrl(root: $0.mountPoint) }
    }

    /// What `create` and `apus check` refuse: RDT on a host without
    /// resctrl, or a feature this host's resctrl lacks (its info/ directory),
    /// in runc's words with the field's path.
    static func problems(_ rdt: IntelRdt?, resctrl: Resctrl?) -> [RuntimeError] {
        guard let rdt else { return [] }
        let fields = setFields(rdt)
        guard let resctrl else {
            let field = fields.first ?? "linux.intelRdt"
            return [.unsupported(path: field, reason: "\(feature(field)) is not enabled on this host (no resctrl filesystem is mounted)")]
        }
        let info = ["linux.intelRdt.l3CacheSchema": "L3", "linux.intelRdt.memBwSchema": "MB", "linux.intelRdt.enableMonitoring": "L3_MON"]
        return fields.compactMap { field in
            guard let dir = info[field], !FS.exists(resctrl.root + "/info/" + dir) else { return nil }
            return .unsupported(path: field, reason: "\(feature(field)) is not enabled on this host (no \(resctrl.root)/info/\(dir))")
        }
    }

    /// The part of RDT a field needs, as runc names it.
    static func feature(_ field: String) -> String {
        switch field {
        case "linux.intelRdt.l3CacheSchema": return "Intel RDT/CAT"
        case "linux.intelRdt.memBwSchema": return "Intel RDT/MBA"
        case "linux.intelRdt.enableMonitoring": return "Intel RDT monitoring"
        default: return "Intel RDT"
        }
    }

    /// The JSON paths of the fields the config sets, those needing a
    /// particular RDT feature first (runc checks L3, then MB).
    static func setFields(_ rdt: IntelRdt) -> [String] {
        var out: [String] = []
        if !(rdt.l3CacheSchema ?? "").isEmpty { out.append("l3CacheSchema") }
        if !(rdt.memBwSchema ?? "").isEmpty { out.append("memBwSchema") }
        if !(rdt.schemata ?? []).isEmpty { out.append("schemata") }
        if monitoring(rdt) { out.append("enableMonitoring") }
        if !(rdt.closID ?? "").isEmpty { out.append("closID") }
        return out.map { "linux.intelRdt." + $0 }
    }

    /// enableMonitoring, or its runtime-spec 1.2 forms (enableCMT, enableMBM).
    static func monitoring(_ rdt: IntelRdt) -> Bool {
        rdt.enableMonitoring == true || rdt.enableCMT == true || rdt.enableMBM == true
    }

    /// The container's resource group: closID's ("/" is the default group), else its id.
    func group(_ rdt: IntelRdt, id: String) -> String {
        guard let clos = rdt.closID, !clos.isEmpty else { return root + "/" + id }
        return clos == "/" ? root : root + "/" + clos
    }

    /// `create`: the group made (if new) and its schemata written, then
    /// process `pid` put in it (and in its monitoring group).
    func apply(_ rdt: IntelRdt, id: String, pid: Int32) throws {
        let dir = group(rdt, id: id)
        try FS.mkdirAll(dir)
        let lines = [rdt.l3CacheSchema, rdt.memBwSchema].compactMap { $0 } + (rdt.schemata ?? [])
        for line in lines where !line.isEmpty {
            // One write per line: the kernel parses each write on its own.
            try write(dir + "/schemata", line + "\n", field: "linux.intelRdt")
        }
        try join(rdt, id: id, pid: pid)
    }

    /// Puts `pid` in the container's group (an exec'd process too, as in runc).
    func join(_ rdt: IntelRdt, id: String, pid: Int32) throws {
        let dir = group(rdt, id: id)
        try write(dir + "/tasks", "\(pid)\n", field: "linux.intelRdt")
        if Self.monitoring(rdt) {
            let mon = dir + "/mon_groups/" + id
            try FS.mkdirAll(mon)
            try write(mon + "/tasks", "\(pid)\n", field: "linux.intelRdt.enableMonitoring")
        }
    }

    /// `delete`: the monitoring group, and the group if it is the container's own.
    func remove(_ rdt: IntelRdt, id: String) {
        let dir = group(rdt, id: id)
        if Self.monitoring(rdt) { rmdir(dir + "/mon_groups/" + id) }
        if (rdt.closID ?? "").isEmpty { rmdir(dir) }
    }

    /// resctrl's files exist once the kernel made the group; a plain
    /// directory (tests) gets them created.
    private func write(_ path: String, _ text: String, field: String) throws {
        do { try FS.write(path, text, flags: O_WRONLY | O_CREAT | O_APPEND) } catch RuntimeError.syscall(_, let call, let err) {
            throw RuntimeError.syscall(step: "\(field): writing \(path)", call: call, errno: err)
        }
    }
}
