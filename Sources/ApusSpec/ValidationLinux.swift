extension Validator {
    mutating func checkLinux(_ l: Linux, _ at: JSONPath) {
        checkNamespaces(l.namespaces ?? [], at.key("namespaces"))
        checkUserMappings(l, at)
        checkTimeOffsets(l, at)
        checkSysctl(l.sysctl ?? [:], at.key("sysctl"))
        if let r = l.resources { checkResources(r, at.key("resources")) }
        for (i, d) in (l.devices ?? []).enumerated() { checkDevice(d, at.key("devices").index(i)) }
        checkNetDevices(l.netDevices, at.key("netDevices"))
        if let s = l.seccomp { checkSeccomp(s, at.key("seccomp")) }
        if let prop = l.rootfsPropagation, !prop.isEmpty, !Validator.propagations.contains(prop) {
            fail(at.key("rootfsPropagation"), "unknown propagation \(quoted(prop))")
        }
        for (key, paths) in [("maskedPaths", l.maskedPaths), ("readonlyPaths", l.readonlyPaths)] {
            guard let paths else { continue }
            for (i, path) in paths.enumerated() { checkAbsolute(path, at.key(key).index(i)) }
            // runc: masking is done with mounts, which would otherwise land on the host.
            if !paths.isEmpty && !has(.mount) { fail(at.key(key), "requires a mount namespace") }
        }
        if let rdt = l.intelRdt { checkIntelRdt(rdt, at.key("intelRdt")) }
        if let mp = l.memoryPolicy { checkMemoryPolicy(mp, at.key("memoryPolicy")) }
        if let flags = l.personality?.flags, !flags.isEmpty {
            warn(at.key("personality").key("flags"), "ignored: no personality flags are supported")
        }
    }

    static let propagations: Set<String> = [
        "private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable",
    ]

    private mutating func checkNamespaces(_ namespaces: [LinuxNamespace], _ at: JSONPath) {
        var seen = Set<NamespaceType>()
        for (i, ns) in namespaces.enumerated() {
            if !seen.insert(ns.type).inserted {
                fail(at.index(i), "duplicate namespace type \(quoted(ns.type.rawValue))")
            }
            if let path = ns.joinPath { checkAbsolute(path, at.index(i).key("path")) }
        }
    }

    /// Mappings need a user namespace, and a new user namespace needs mappings
    /// (runc's rules; joining an existing one takes its mappings).
    private mutating func checkUserMappings(_ l: Linux, _ at: JSONPath) {
        checkMappingSizes(l.uidMappings, at.key("uidMappings"))
        checkMappingSizes(l.gidMappings, at.key("gidMappings"))
        guard let userns = l.namespace(.user) else {
            if l.uidMappings != nil { fail(at.key("uidMappings"), "requires a user namespace") }
            if l.gidMappings != nil { fail(at.key("gidMappings"), "requires a user namespace") }
            return
        }
        if userns.joinPath == nil {
            if l.uidMappings?.isEmpty ?? true { fail(at.key("uidMappings"), "required for a new user namespace") }
            if l.gidMappings?.isEmpty ?? true { fail(at.key("gidMappings"), "required for a new user namespace") }
        }
    }

    private mutating func checkTimeOffsets(_ l: Linux, _ at: JSONPath) {
        guard let offsets = l.timeOffsets else { return }
        let here = at.key("timeOffsets")
        if let timens = l.namespace(.time) {
            // Offsets can only be written before the first process enters a new namespace.
            if timens.joinPath != nil { fail(here, "cannot be set when joining an existing time namespace") }
        } else {
            fail(here, "requires a time namespace")
        }
        for clock in offsets.keys.sorted() {
            if clock != "monotonic" && clock != "boottime" {
                fail(here.key(clock), "unknown clock \(quoted(clock)) (want \"monotonic\" or \"boottime\")")
            }
            if let ns = offsets[clock]?.nanosecs, ns >= 1_000_000_000 {
                fail(here.key(clock).key("nanosecs"), "\(ns) is out of range (0...999999999)")
            }
        }
    }

    static let ipcSysctls: Set<String> = ["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                                          "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"]

    /// The namespace a (dotted) sysctl belongs to, nil if it is not namespaced.
    static func sysctlNamespace(_ name: String) -> NamespaceType? {
        if ipcSysctls.contains(name) || name.hasPrefix("fs.mqueue.") { return .ipc }
        if name.hasPrefix("net.") { return .network }
        if name == "kernel.domainname" || name == "kernel.hostname" { return .uts }
        if name.hasPrefix("user.") { return .user }
        return nil
    }

    /// runc's rules: only namespaced sysctls, and only with their namespace,
    /// since /proc/sys otherwise writes the host's values.
    private mutating func checkSysctl(_ sysctl: [String: String], _ at: JSONPath) {
        let ipcKeys = Self.ipcSysctls
        for key in sysctl.keys.sorted() {
            let name = Validator.sysctlDotted(key)
            let here = at.key(key)
            if Validator.sysctlProcPath(key).split(separator: "/", omittingEmptySubsequences: false)
                .contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
                fail(here, "not a sysctl name (empty, \".\" or \"..\" component)")
                continue
            }
            if ipcKeys.contains(name) || name.hasPrefix("fs.mqueue.") {
                if !has(.ipc) { fail(here, "requires an ipc namespace") }
            } else if name.hasPrefix("net.") {
                if !has(.network) { fail(here, "requires a network namespace") }
            } else if has(.uts) && name == "kernel.domainname" {
                continue
            } else if has(.uts) && name == "kernel.hostname" {
                fail(here, "conflicts with the hostname property")
            } else if name.hasPrefix("user.") {
                if !has(.user) { fail(here, "requires a user namespace") }
            } else {
                fail(here, "not in a separate kernel namespace")
            }
        }
    }

    /// The file under /proc/sys for a sysctl name: "net.ipv4.ip_forward" →
    /// "net/ipv4/ip_forward"; a literal "." (written "/" in dotted names) stays.
    static func sysctlProcPath(_ name: String) -> String {
        String(sysctlDotted(name).map { $0 == "." ? "/" : $0 == "/" ? "." : $0 })
    }

    /// sysctl(8) accepts "/" as the separator when the name starts with one;
    /// then "." inside a component (an interface like "eno2.100") stays literal.
    static func sysctlDotted(_ name: String) -> String {
        guard let first = name.firstIndex(where: { $0 == "." || $0 == "/" }), name[first] == "/" else { return name }
        return String(name.map { $0 == "/" ? "." : $0 == "." ? "/" : $0 })
    }

    private mutating func checkDevice(_ d: LinuxDevice, _ at: JSONPath) {
        checkAbsolute(d.path, at.key("path"))
        guard ["c", "b", "u", "p"].contains(d.type) else {
            fail(at.key("type"), "unknown device type \(quoted(d.type)) (want c, b, u or p)")
            return
        }
        if d.type != "p" {
            if d.major == nil { fail(at.key("major"), "required for device type \(quoted(d.type))") }
            if d.minor == nil { fail(at.key("minor"), "required for device type \(quoted(d.type))") }
        }
    }

    private mutating func checkNetDevices(_ devices: [String: NetDevice]?, _ at: JSONPath) {
        guard let devices, !devices.isEmpty else { return }
        if !has(.network) { fail(at, "requires a network namespace") }
        var targets: [String: String] = [:]
        for name in devices.keys.sorted() {
            if !Validator.isValidInterfaceName(name) { fail(at.key(name), "invalid network device name \(quoted(name))") }
            if let inner = devices[name]?.name, !inner.isEmpty, !Validator.isValidInterfaceName(inner) {
                fail(at.key(name).key("name"), "invalid network device name \(quoted(inner))")
            }
            // Two devices cannot have one name in the container.
            let target = (devices[name]?.name ?? "").isEmpty ? name : devices[name]!.name!
            if let other = targets[target] {
                fail(at.key(name), "has the same name in the container (\(quoted(target))) as linux.netDevices.\(other)")
            }
            targets[target] = name
        }
    }

    /// The kernel's dev_valid_name(): 1...15 bytes, not "." or "..", no "/", ":" or whitespace.
    static func isValidInterfaceName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count < 16, name != ".", name != ".." else { return false }
        return !bytes.contains { $0 == 0x2f || $0 == 0x3a || $0 == 0x20 || (0x09...0x0d).contains($0) || $0 == 0 }
    }

    private mutating func checkIntelRdt(_ rdt: IntelRdt, _ at: JSONPath) {
        if let clos = rdt.closID, clos == "." || clos == ".." || (clos.count > 1 && clos.contains("/")) {
            fail(at.key("closID"), "invalid \(quoted(clos)): want \"/\" or a name without \"/\"")
        }
        if let mb = rdt.memBwSchema {
            if !mb.hasPrefix("MB:") { fail(at.key("memBwSchema"), "must start with \"MB:\"") }
            if mb.contains("\n") { fail(at.key("memBwSchema"), "must not contain a newline") }
        }
        if let l3 = rdt.l3CacheSchema {
            if !l3.hasPrefix("L3:") { warn(at.key("l3CacheSchema"), "should start with \"L3:\"") }
            if l3.contains("\n") { warn(at.key("l3CacheSchema"), "should not contain a newline") }
        }
        for (i, line) in (rdt.schemata ?? []).enumerated() where line.contains("\n") {
            fail(at.key("schemata").index(i), "must not contain a newline")
        }
    }

    /// set_mempolicy(2)'s rules on nodes per mode, as runc checks them.
    private mutating func checkMemoryPolicy(_ mp: MemoryPolicy, _ at: JSONPath) {
        let nodes = checkList(mp.nodes, "node", at.key("nodes"))
        switch mp.mode {
        case .MPOL_DEFAULT, .MPOL_LOCAL:
            if nodes != nil { fail(at.key("nodes"), "must be empty for \(mp.mode.rawValue)") }
        case .MPOL_BIND, .MPOL_INTERLEAVE, .MPOL_PREFERRED_MANY, .MPOL_WEIGHTED_INTERLEAVE:
            if mp.nodes?.isEmpty ?? true { fail(at.key("nodes"), "required for \(mp.mode.rawValue)") }
        case .MPOL_PREFERRED:
            break
        }
        let flags = mp.flags ?? []
        if flags.contains(.MPOL_F_STATIC_NODES) && flags.contains(.MPOL_F_RELATIVE_NODES) {
            fail(at.key("flags"), "MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES are mutually exclusive")
        }
    }
}
