import ApusSpec
import Glibc

/// `apus inspect`: what a created, running or paused container really
/// isolates, read from the kernel (/proc/<pid>, its cgroup files, its mount
/// table), and the risks of the same rule table as `apus check`.
public struct InspectReport {
    public struct Namespace {
        public var type: NamespaceType
        public var inode: UInt64
        public var sharedWithHost: Bool
        /// The path the config joined it by (from the config saved at create).
        public var joined: String?
        /// Whose it is, when that can be told: "host" or "container <id>".
        public var owner: String?
    }

    public struct MountPoint {
        public var entry: MountEntry
        /// For a mount of a filesystem the host has mounted (a bind): where it is on the host.
        public var hostSource: String?
        /// Covered by a later mount: still in the table, out of reach.
        public var hidden = false
    }

    public var id: String
    public var status: ContainerStatus
    public var pid: Int32
    public var namespaces: [Namespace] = []
    public var uid: UInt32?
    public var gid: UInt32?
    public var groups: [UInt32] = []
    public var uidMap: [IDMapping] = []
    public var gidMap: [IDMapping] = []
    public var capabilities: [(set: IsolationFacts.CapabilitySet, names: [String])] = []
    public var noNewPrivileges = false
    public var seccompMode = IsolationFacts.SeccompMode.disabled
    public var seccompFilters = 0
    public var lsm: (name: String, label: String)?
    public var cgroupLayout = Cgroups.Layout.none
    /// Hierarchy key → the container's cgroup directory.
    public var cgroupPaths: [String: String] = [:]
    /// Hierarchy key → its cgroup as /proc/PID/cgroup names it.
    public var cgroupMembership: [String: String] = [:]
    public var limits = CgroupLimits()
    public var mounts: [MountPoint] = []
    public var devices: [(path: String, type: String, major: Int64, minor: Int64)] = []
    public var risks: [Risk] = []

    /// The stable format for tools (README: "apus inspect --format json").
    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("id", id)
        b.set("status", status.rawValue)
        b.set("pid", pid)
        b.set("risks", risks.map { $0.json })
        b.set("namespaces", namespaces.map { ns -> JSONValue in
            var n = ObjectBuilder()
            n.set("type", ns.type.procName)
            n.set("inode", ns.inode)
            n.set("sharedWithHost", ns.sharedWithHost)
            n.set("joined", ns.joined)
            n.set("owner", ns.owner)
            return n.json
        })
        var user = ObjectBuilder()
        user.set("uid", uid)
        user.set("gid", gid)
        user.set("groups", groups)
        user.set("uidMap", uidMap)
        user.set("gidMap", gidMap)
        b.set("user", user.json)
        var caps = ObjectBuilder()
        for (set, names) in capabilities { caps.set(set.rawValue, names) }
        b.set("capabilities", caps.json)
        b.set("noNewPrivileges", noNewPrivileges)
        var seccomp = ObjectBuilder()
        seccomp.set("mode", seccompMode.rawValue)
        seccomp.set("filters", seccompFilters)
        b.set("seccomp", seccomp.json)
        if let lsm {
            var l = ObjectBuilder()
            l.set("name", lsm.name)
            l.set("label", lsm.label)
            b.set("lsm", l.json)
        }
        var cgroup = ObjectBuilder()
        cgroup.set("layout", cgroupLayout.rawValue)
        cgroup.set("paths", cgroupPaths)
        if case .object(let o) = limits.json { for m in o.members { cgroup.set(m.key, m.value) } }
        b.set("cgroup", cgroup.json)
        b.set("mounts", mounts.map { m -> JSONValue in
            var o = ObjectBuilder()
            o.set("destination", m.entry.mountPoint)
            o.set("type", m.entry.fsType)
            o.set("source", m.entry.source)
            o.set("options", m.entry.options)
            o.set("writable", m.entry.isWritable)
            o.set("hostSource", m.hostSource)
            o.set("hidden", m.hidden ? true : nil)
            return o.json
        })
        b.set("devices", devices.map { d -> JSONValue in
            var o = ObjectBuilder()
            o.set("path", d.path)
            o.set("type", d.type)
            o.set("major", d.major)
            o.set("minor", d.minor)
            return o.json
        })
        return b.json
    }
}

extension Runtime {
    public func inspect(id: String) throws -> InspectReport {
        let dir = try store.open(id)
        let record = try dir.load()
        let status = record.currentStatus(dir: dir)
        guard status == .created || status == .running || status == .paused else {
            throw RuntimeError.wrongStatus(id: id, status: status, wanted: "inspect needs a created, running or paused container")
        }
        let proc = try ProcFS.host()
        defer { proc.close() }
        let view = KernelView(proc: proc, pid: record.pid)
        var report = try InspectReport(view: view, record: record, status: status, config: savedConfig(dir))
        report.namespaces = report.namespaces.map { ns in
            var ns = ns
            if ns.owner == nil, ns.joined != nil { ns.owner = owner(of: ns, except: id, proc: proc) }
            return ns
        }
        // Everything read must belong to the init that was checked above.
        guard record.initPresent else {
            throw RuntimeError.other("container \(id) stopped while it was being inspected")
        }
        return report
    }

    /// The config as decoded at create (for the namespaces it joined by path).
    private func savedConfig(_ dir: ContainerDir) -> Spec? {
        try? dir.savedConfig()
    }

    /// The other container of this state root whose init is in the same namespace.
    private func owner(of ns: InspectReport.Namespace, except id: String, proc: ProcFS) -> String? {
        for other in (try? store.ids()) ?? [] where other != id {
            guard let record = try? store.open(other).load(),
                  let link = proc.readLink("\(record.pid)/ns", ns.type.procName),
                  KernelView.inode(link) == ns.inode,
                  record.initPresent else { continue }
            return "container \(other)"
        }
        return nil
    }
}

extension InspectReport {
    init(view: KernelView, record: ContainerRecord, status: ContainerStatus, config: Spec?) throws {
        self.init(id: record.id, status: status, pid: record.pid)
        let st = KernelView.parseStatus(try view.read("status"))
        for type in [NamespaceType.pid, .network, .mount, .ipc, .uts, .user, .cgroup, .time] {
            let (own, caller) = view.namespaceInodes(type)
            guard let own else { continue }
            let joined = config?.linux?.namespace(type)?.joinPath
            let shared = own == caller
            namespaces.append(Namespace(type: type, inode: own, sharedWithHost: shared, joined: joined,
                                        owner: shared && joined != nil ? "host" : nil))
        }
        uid = st.uids.count > 1 ? st.uids[1] : nil
        gid = st.gids.count > 1 ? st.gids[1] : nil
        groups = st.groups
        uidMap = KernelView.parseIDMap((try? view.read("uid_map")) ?? "")
        gidMap = KernelView.parseIDMap((try? view.read("gid_map")) ?? "")
        capabilities = IsolationFacts.CapabilitySet.allCases.map { ($0, KernelView.capabilityNames(st.capabilities[$0] ?? 0)) }
        noNewPrivileges = st.noNewPrivileges
        seccompMode = st.seccompMode == 2 ? .filter : st.seccompMode == 1 ? .strict : .disabled
        seccompFilters = st.seccompFilters
        lsm = view.lsmLabel()
        let host = MountEntry.current()
        let hierarchies = Cgroups.hierarchies(mounts: host)
        cgroupLayout = Cgroups.layout(hierarchies)
        let membership = (try? view.read("cgroup")) ?? ""
        cgroupMembership = Cgroups.membership(membership)
        cgroupPaths = Cgroups.directories(membership: membership, hierarchies: hierarchies)
        limits = CgroupLimits.read(cgroupPaths)
        let table = MountEntry.parse(try view.read("mountinfo"))
        mounts = zip(table, MountEntry.hidden(table)).map { m, hidden in
            MountPoint(entry: m, hostSource: KernelView.hostPath(of: m, in: host), hidden: hidden)
        }
        devices = view.deviceNodes()
        risks = Risks.evaluate(IsolationFacts(kernel: self, status: st, hostCapabilities: Capabilities.bounding()))
    }
}

extension IsolationFacts {
    /// The facts as the kernel shows them (`apus inspect`); paths point into
    /// the inspect document.
    init(kernel r: InspectReport, status st: KernelView.Status, hostCapabilities: Set<Capability>) {
        self.init()
        capabilitiesPath = "capabilities"
        for set in CapabilitySet.allCases {
            capabilities[set] = KernelView.capabilities(st.capabilities[set] ?? 0)
            capabilitySetPaths[set] = "capabilities.\(set.rawValue)"
        }
        self.hostCapabilities = hostCapabilities
        noNewPrivileges = Seen(st.noNewPrivileges, at: "noNewPrivileges")
        seccomp = Seen(r.seccompMode, at: "seccomp")
        for (i, ns) in r.namespaces.enumerated() where ns.sharedWithHost { hostNamespaces[ns.type] = "namespaces[\(i)]" }
        if let i = r.namespaces.firstIndex(where: { $0.type == .user && $0.sharedWithHost }) {
            rootIsHostRoot = Seen(true, at: "namespaces[\(i)]")
        } else {
            rootIsHostRoot = Seen(r.uidMap.contains { $0.containerID == 0 && $0.hostID == 0 && $0.size > 0 }, at: "user.uidMap")
        }
        memoryLimit = Seen(r.limits.memory.flatMap { $0 >= 0 ? $0 : nil }, at: "cgroup.memory.limit")
        pidsLimit = Seen(r.limits.pids.flatMap { $0 >= 0 ? $0 : nil }, at: "cgroup.pids.limit")
        addMounts(r.mounts)
        for (i, d) in r.devices.enumerated() {
            devices.append(Device(name: d.path, type: d.type, major: d.major, minor: d.minor, path: "devices[\(i)]"))
        }
    }

    private mutating func addMounts(_ mounts: [InspectReport.MountPoint]) {
        var hasProc = false, hasSysfs = false
        for (i, m) in mounts.enumerated() where !m.hidden {
            let e = m.entry
            let at = "mounts[\(i)]"
            if e.mountPoint == "/" { readonlyRootfs = Seen(!e.isWritable, at: at); continue }
            if e.fsType == "proc" && e.mountPoint == "/proc" { hasProc = true }
            if e.fsType == "sysfs" && e.mountPoint == "/sys" { hasSysfs = true }
            if e.fsType == "sysfs" && e.isWritable { writableSysfs.append(Seen(e.mountPoint, at: at)) }
            guard let source = m.hostSource else { continue }
            switch HostProbe.fileKind(source) {
            case .charDevice(let major, let minor)?:
                // Nodes under /dev are counted by the device scan.
                if !e.mountPoint.hasPrefix("/dev/") { devices.append(Device(name: e.mountPoint, type: "c", major: major, minor: minor, path: at)) }
            case .blockDevice(let major, let minor)?:
                if !e.mountPoint.hasPrefix("/dev/") { devices.append(Device(name: e.mountPoint, type: "b", major: major, minor: minor, path: at)) }
            case let kind:
                hostMounts.append(HostMount(hostPath: source, destination: e.mountPoint, writable: e.isWritable,
                                            isSocket: kind == .socket, path: at))
            }
        }
        if hasProc, let i = Self.covering("/proc/sys", mounts) {
            writableProcSys = Seen(mounts[i].entry.isWritable, at: "mounts[\(i)]")
        }
        let unmasked = Spec.defaultMaskedPaths.filter { p in
            (p.hasPrefix("/proc/") ? hasProc : hasSysfs) && FS.exists(p) && !mounts.contains { !$0.hidden && $0.entry.mountPoint == p }
        }
        unmaskedPaths = Seen(unmasked, at: "mounts")
    }

    /// The mount that shows `path`: the deepest mount point above it, the
    /// last mounted of equals.
    static func covering(_ path: String, _ mounts: [InspectReport.MountPoint]) -> Int? {
        var best: Int?
        for (i, m) in mounts.enumerated() where !m.hidden {
            let p = m.entry.mountPoint
            guard p == "/" || p == path || path.hasPrefix(p + "/") else { continue }
            if best == nil || p.count >= mounts[best!].entry.mountPoint.count { best = i }
        }
        return best
    }
}
