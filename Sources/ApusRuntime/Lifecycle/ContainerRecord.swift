import ApusSpec
import Glibc

/// What Apus keeps about one container in `<root>/<id>/state.json`. This is
/// Apus's own format (the OCI state is derived from it); it holds what later
/// commands need without re-reading the bundle, which may have changed.
public struct ContainerRecord: JSONCodable, Equatable {
    public var id: String
    public var pid: Int32
    /// /proc/PID/stat start time, to tell our init from a process that reused its pid.
    public var pidStartTime: UInt64
    public var bundle: String
    public var rootfs: String
    public var created: String
    public var owner: String
    public var annotations: [String: String]?
    /// Controller (or "unified") → absolute cgroup directory.
    public var cgroupPaths: [String: String]
    /// The transient scope holding those cgroups (`--systemd-cgroup`).
    public var systemdUnit: String?
    /// Namespace /proc name → path of the namespace the container uses, for exec and inspect.
    public var namespacePaths: [String: String]
    /// Lets `delete` skip reading the saved config when there is no hook to run.
    public var hasPoststopHooks: Bool
    /// The pid namespace the container made ("pid:[inode]"), nil if it
    /// made none: in its cgroups only processes of this namespace are its
    /// own to kill; others belong to a container sharing the cgroupsPath.
    public var pidNamespace: String?
    /// Mount ID of the rootfs bind holding the container's mounts when it
    /// has no mount namespace (CallerNamespaceMounts); delete detaches it.
    public var callerRootfsMount: Int64?

    public init(id: String, bundle: String, rootfs: String, created: String, annotations: [String: String]?) {
        self.id = id
        self.pid = 0
        self.pidStartTime = 0
        self.bundle = bundle
        self.rootfs = rootfs
        self.created = created
        self.owner = ""
        self.annotations = annotations
        self.cgroupPaths = [:]
        self.namespacePaths = [:]
        self.hasPoststopHooks = false
        self.pidNamespace = nil
    }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        id = try r.required("id")
        pid = try r.required("pid")
        pidStartTime = try r.required("pidStartTime")
        bundle = try r.required("bundle")
        rootfs = try r.required("rootfs")
        created = try r.required("created")
        owner = try r.optional("owner") ?? ""
        annotations = try r.optional("annotations")
        cgroupPaths = try r.optional("cgroupPaths") ?? [:]
        systemdUnit = try r.optional("systemdUnit")
        namespacePaths = try r.optional("namespacePaths") ?? [:]
        hasPoststopHooks = try r.optional("hasPoststopHooks") ?? false
        pidNamespace = try r.optional("pidNamespace")
        callerRootfsMount = try r.optional("callerRootfsMount")
        try Self.check(self, path)
    }

    /// What later commands act on must make sense before they act: a pid
    /// of 0 or -1 would signal a process group or everything, a relative or
    /// `..` cgroup path would point outside the cgroup filesystem.
    static func check(_ r: ContainerRecord, _ path: JSONPath) throws {
        if r.id.isEmpty { throw SpecError("must not be empty", at: path.key("id")) }
        if r.pid <= 0 { throw SpecError("\(r.pid) is not a process id", at: path.key("pid")) }
        try checkPaths(r.cgroupPaths, path.key("cgroupPaths"))
        try checkPaths(r.namespacePaths, path.key("namespacePaths"))
        try checkUnit(r.systemdUnit, path.key("systemdUnit"))
    }

    /// `delete` stops this unit: only ever a scope (never, say, a service a
    /// tampered state file names).
    static func checkUnit(_ unit: String?, _ path: JSONPath) throws {
        guard let unit else { return }
        if !unit.hasSuffix(".scope") || !SystemdCgroup.isValidUnitName(unit) {
            throw SpecError("\"\(unit)\" is not a systemd scope name", at: path)
        }
    }

    static func checkPaths(_ paths: [String: String], _ path: JSONPath) throws {
        for (key, value) in paths where !isCleanAbsolute(value) {
            throw SpecError("must be an absolute path without . or .. components", at: path.key(key))
        }
    }

    /// Starts with "/", has no NUL and no "." or ".." component, judged on
    /// the bytes the kernel sees. One pass over the UTF-8: `list` runs this
    /// for every container, and splitting into Characters was half its time.
    static func isCleanAbsolute(_ value: String) -> Bool {
        // the component so far is this many dots; -1: something else;
        // -2: before the leading "/" (no dropFirst(): a Substring's UTF-8
        // view is read through a call per byte, 3 % of `list`)
        var dots = -2
        for b in value.utf8 {
            if dots == -2 {
                guard b == UInt8(ascii: "/") else { return false }
                dots = 0
                continue
            }
            switch b {
            case 0: return false
            case UInt8(ascii: "/"):
                if dots == 1 || dots == 2 { return false }
                dots = 0
            case UInt8(ascii: "."): if dots >= 0 { dots += 1 }
            default: dots = -1
            }
        }
        return dots != -2 && dots != 1 && dots != 2
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("id", id)
        b.set("pid", pid)
        b.set("pidStartTime", pidStartTime)
        b.set("bundle", bundle)
        b.set("rootfs", rootfs)
        b.set("created", created)
        b.set("owner", owner)
        b.set("annotations", annotations)
        b.set("cgroupPaths", cgroupPaths)
        b.set("systemdUnit", systemdUnit)
        b.set("namespacePaths", namespacePaths)
        b.set("hasPoststopHooks", hasPoststopHooks)
        b.set("pidNamespace", pidNamespace)
        b.set("callerRootfsMount", callerRootfsMount)
        return b.json
    }
}

extension ContainerRecord {
    /// CLONE_NEW* flags of the init's namespaces that differ from ours: the
    /// ones `exec` joins (setns into our own user namespace would fail).
    func namespacesToJoin() -> Int32 {
        var flags: Int32 = 0
        for t in NamespaceType.allCases where namespacePaths[t.procName] != nil {
            var theirs = stat(), ours = stat()
            let same = stat("/proc/\(pid)/ns/\(t.procName)", &theirs) == 0 && stat("/proc/self/ns/\(t.procName)", &ours) == 0
                && theirs.st_ino == ours.st_ino && theirs.st_dev == ours.st_dev
            if !same { flags |= t.cloneFlag }
        }
        return flags
    }
}

/// What a `create` in progress will make, written before it makes any of
/// it (`<root>/<id>/intent.json`, present from the moment the directory
/// is): if that apus dies half-way (a caller's timeout, SIGKILL), the next
/// `delete --force` or `create` of the id knows whose it was and what to
/// remove, and can tell a dead create from one still running.
public struct CreateIntent: JSONCodable, Equatable {
    /// The `apus create`/`run` process and its /proc start time.
    public var creatorPID: Int32
    public var creatorStartTime: UInt64
    /// The cgroups it will create: every process it starts joins them.
    public var cgroupPaths: [String: String]
    /// The systemd scope it will start (`--systemd-cgroup`).
    public var systemdUnit: String?
    /// Set when the container's mounts go to the caller's mount namespace:
    /// the rootfs, and the ID of the mount that was at it before the create
    /// (anything stacked on it since is the create's bind).
    public var callerRootfs: String?
    public var callerRootfsMountBefore: Int64?
    /// The cgroups already held other processes (a shared cgroupsPath):
    /// only the create's own init is then killed, and only empty cgroups
    /// removed. The init is recorded once it exists.
    public var sharedCgroups = false
    public var initPID: Int32?
    public var initStartTime: UInt64?

    public init(creatorPID: Int32, creatorStartTime: UInt64, cgroupPaths: [String: String], systemdUnit: String? = nil) {
        self.creatorPID = creatorPID
        self.creatorStartTime = creatorStartTime
        self.cgroupPaths = cgroupPaths
        self.systemdUnit = systemdUnit
    }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        creatorPID = try r.required("creatorPID")
        creatorStartTime = try r.required("creatorStartTime")
        cgroupPaths = try r.optional("cgroupPaths") ?? [:]
        systemdUnit = try r.optional("systemdUnit")
        callerRootfs = try r.optional("callerRootfs")
        callerRootfsMountBefore = try r.optional("callerRootfsMountBefore")
        sharedCgroups = try r.optional("sharedCgroups") ?? false
        initPID = try r.optional("initPID")
        initStartTime = try r.optional("initStartTime")
        if let pid = initPID, pid <= 0 { throw SpecError("\(pid) is not a process id", at: path.key("initPID")) }
        if let rootfs = callerRootfs, !rootfs.hasPrefix("/") {
            throw SpecError("must be an absolute path", at: path.key("callerRootfs"))
        }
        if creatorPID <= 0 { throw SpecError("\(creatorPID) is not a process id", at: path.key("creatorPID")) }
        try ContainerRecord.checkPaths(cgroupPaths, path.key("cgroupPaths"))
        try ContainerRecord.checkUnit(systemdUnit, path.key("systemdUnit"))
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("creatorPID", creatorPID)
        b.set("creatorStartTime", creatorStartTime)
        b.set("cgroupPaths", cgroupPaths)
        b.set("systemdUnit", systemdUnit)
        b.set("callerRootfs", callerRootfs)
        b.set("callerRootfsMountBefore", callerRootfsMountBefore)
        if sharedCgroups { b.set("sharedCgroups", true) }
        b.set("initPID", initPID)
        b.set("initStartTime", initStartTime)
        return b.json
    }

    /// Kills what the create started and removes its cgroups: every process
    /// in them (the init and whatever it started joined them), or, in
    /// cgroups shared with others, only its init (its pid namespace goes
    /// with it), leaving cgroups that are still in use.
    func removeCgroups() throws {
        guard !cgroupPaths.isEmpty else { return }
        if Cgroups.isFrozen(paths: cgroupPaths) { try? Freezer.set(cgroupPaths, frozen: false) }
        guard sharedCgroups else { return try Cgroups.destroy(cgroupPaths) }
        if let pid = initPID, ProcStat.read(pid: pid)?.startTime == initStartTime { Glibc.kill(pid, SIGKILL) }
        _ = try Cgroups.removeIfEmpty(cgroupPaths)
    }

    /// The creating apus still runs (same pid, same start time).
    public var creatorAlive: Bool {
        guard let st = ProcStat.read(pid: creatorPID) else { return false }
        return st.isAlive && st.startTime == creatorStartTime
    }
}
