import ApusSpec
import Glibc

/// What `apus check` asks of the host, read-only. Unit tests give a fake one.
struct HostProbe {
    enum FileKind: Equatable {
        case directory, regular, socket, charDevice(Int64, Int64), blockDevice(Int64, Int64), other
    }

    /// The highest capability number of this kernel.
    var lastCap: Int32
    /// The capabilities the host can grant (the caller's bounding set).
    var capabilities: Set<Capability>
    /// The namespace file at a path is the caller's own of that type.
    var isHostNamespace: (String, NamespaceType) -> Bool
    /// What is at a host path (following symlinks), nil if nothing.
    var kind: (String) -> FileKind?

    static var live: HostProbe {
        HostProbe(lastCap: (try? Capabilities.lastCap()) ?? Capability.last, capabilities: Capabilities.bounding(),
                  isHostNamespace: { NamespaceFile.isSame($0, "/proc/self/ns/\($1.procName)") },
                  kind: fileKind)
    }

    static func fileKind(_ path: String) -> FileKind? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return fileKind(st)
    }

    static func fileKind(_ st: stat) -> FileKind {
        let major = ApusRuntime.major(st.st_rdev), minor = ApusRuntime.minor(st.st_rdev)
        switch st.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: return .regular
        case S_IFSOCK: return .socket
        case S_IFCHR: return .charDevice(major, minor)
        case S_IFBLK: return .blockDevice(major, minor)
        default: return .other
        }
    }
}

extension IsolationFacts {
    /// The facts a config asks for, judged before anything runs (`apus check`).
    init(config spec: Spec, bundle: String, host: HostProbe) {
        self.init()
        let process = spec.process
        let linux = spec.linux
        capabilitiesPath = "process.capabilities"
        let caps = process?.capabilities
        let sets: [(CapabilitySet, [Capability]?)] = [(.bounding, caps?.bounding), (.effective, caps?.effective),
                                                      (.inheritable, caps?.inheritable), (.permitted, caps?.permitted),
                                                      (.ambient, caps?.ambient)]
        for (set, list) in sets {
            capabilities[set] = Set(list ?? [])
            capabilitySetPaths[set] = "process.capabilities.\(set.rawValue)"
        }
        hostCapabilities = host.capabilities
        noNewPrivileges = Seen(process?.noNewPrivileges == true, at: "process.noNewPrivileges")
        seccomp = Seen(linux?.seccomp == nil ? .disabled : .filter, at: "linux.seccomp")
        for type in NamespaceType.allCases {
            if let at = Self.hostNamespacePath(type, linux, host) { hostNamespaces[type] = at }
        }
        rootIsHostRoot = Self.rootIsHostRoot(linux, host)
        memoryLimit = Seen(linux?.resources?.memory?.limit.flatMap { $0 > 0 ? $0 : nil }, at: "linux.resources.memory.limit")
        pidsLimit = Seen(linux?.resources?.pids.flatMap { $0.limit > 0 ? $0.limit : nil }, at: "linux.resources.pids.limit")
        readonlyRootfs = Seen(spec.root?.readonly == true, at: "root.readonly")
        addMounts(spec, bundle: bundle, host: host)
        for (i, d) in (linux?.devices ?? []).enumerated() where d.type != "p" {
            devices.append(Device(name: d.path, type: d.type == "b" ? "b" : "c", major: d.major ?? 0, minor: d.minor ?? 0,
                                  path: "linux.devices[\(i)]"))
        }
    }

    /// Where the config leaves the container in the host's namespace of
    /// `type`: not listed, or joined by a path that is the caller's own.
    private static func hostNamespacePath(_ type: NamespaceType, _ linux: Linux?, _ host: HostProbe) -> String? {
        guard let i = linux?.namespaces?.firstIndex(where: { $0.type == type }) else { return "linux.namespaces" }
        guard let path = linux?.namespaces?[i].joinPath, host.isHostNamespace(path, type) else { return nil }
        return "linux.namespaces[\(i)].path"
    }

    private static func rootIsHostRoot(_ linux: Linux?, _ host: HostProbe) -> Seen<Bool> {
        if let at = hostNamespacePath(.user, linux, host) { return Seen(true, at: at) }
        for (i, m) in (linux?.uidMappings ?? []).enumerated()
        where m.containerID == 0 && m.hostID == 0 && m.size > 0 {
            return Seen(true, at: "linux.uidMappings[\(i)]")
        }
        return Seen(false, at: "linux.uidMappings")
    }

    /// Bind mounts, /proc/sys, sysfs and the standard masks as the config sets them up.
    private mutating func addMounts(_ spec: Spec, bundle: String, host: HostProbe) {
        let mounts = spec.mounts ?? []
        let readonlyPaths = spec.linux?.readonlyPaths ?? []
        let masked = spec.linux?.maskedPaths ?? []
        func covered(_ path: String, by list: [String]) -> Bool {
            list.contains { $0 == path || $0 == "/" || path.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }
        }
        var hasProc = false, hasSysfs = false, procWritable = false
        for (i, m) in mounts.enumerated() {
            let destination = m.destination.hasPrefix("/") ? m.destination : "/" + m.destination
            let writable = MountOptions(m.options ?? []).ownAttrs.set & MountFD.rdonly == 0 && !covered(destination, by: readonlyPaths)
            let source = ConfigMount.hostSource(m, bundle: bundle)
            let isSysfs = m.type == "sysfs" || source.map { $0 == "/sys" || $0.hasPrefix("/sys/") } == true
            if m.type == "proc" && destination == "/proc" { hasProc = true; procWritable = writable }
            if isSysfs && destination == "/sys" { hasSysfs = true }
            if isSysfs && writable { writableSysfs.append(Seen(destination, at: "mounts[\(i)]")) }
            guard let source else { continue }
            switch host.kind(source) {
            case .charDevice(let major, let minor):
                devices.append(Device(name: destination, type: "c", major: major, minor: minor, path: "mounts[\(i)]"))
            case .blockDevice(let major, let minor):
                devices.append(Device(name: destination, type: "b", major: major, minor: minor, path: "mounts[\(i)]"))
            case let kind:
                hostMounts.append(HostMount(hostPath: source, destination: destination, writable: writable,
                                            isSocket: kind == .socket, path: "mounts[\(i)]"))
            }
        }
        writableProcSys = Seen(hasProc && procWritable && !covered("/proc/sys", by: readonlyPaths + masked), at: "linux.readonlyPaths")
        let unmasked = Spec.defaultMaskedPaths.filter { p in
            (p.hasPrefix("/proc/") ? hasProc : hasSysfs) && host.kind(p) != nil && !covered(p, by: masked)
        }
        unmaskedPaths = Seen(unmasked, at: "linux.maskedPaths")
    }
}

/// How `create` reads a config mount (MountRequest, MountSources): a bind
/// when its type is "bind" or its options say so, its source then relative
/// to the bundle.
enum ConfigMount {
    static func isBind(_ m: Mount) -> Bool {
        MountRequest(m, index: 0).kind == .bind
    }

    /// The host path a bind mount shows, nil for other mounts.
    static func hostSource(_ m: Mount, bundle: String) -> String? {
        guard isBind(m), let source = m.source else { return nil }
        return source.hasPrefix("/") ? source : FS.join(bundle, source)
    }
}
