/// What `apus features` prints (features.md, schema/features-schema.json).
/// Lists are plain strings, not enums: they describe what this runtime
/// knows, which may run ahead of the config model.
public struct Features: JSONCodable, Equatable {
    public var ociVersionMin: String
    public var ociVersionMax: String
    public var hooks: [String]?
    public var mountOptions: [String]?
    public var linux: LinuxFeatures?
    public var annotations: [String: String]?
    public var potentiallyUnsafeConfigAnnotations: [String]?

    public init(ociVersionMin: String, ociVersionMax: String) {
        self.ociVersionMin = ociVersionMin
        self.ociVersionMax = ociVersionMax
    }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        ociVersionMin = try r.required("ociVersionMin")
        ociVersionMax = try r.required("ociVersionMax")
        hooks = try r.optional("hooks")
        mountOptions = try r.optional("mountOptions")
        linux = try r.optional("linux")
        annotations = try r.optional("annotations")
        potentiallyUnsafeConfigAnnotations = try r.optional("potentiallyUnsafeConfigAnnotations")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("ociVersionMin", ociVersionMin)
        b.set("ociVersionMax", ociVersionMax)
        b.set("hooks", hooks)
        b.set("mountOptions", mountOptions)
        b.set("linux", linux)
        b.set("annotations", annotations)
        b.set("potentiallyUnsafeConfigAnnotations", potentiallyUnsafeConfigAnnotations)
        return b.json
    }
}

/// `features.linux`.
public struct LinuxFeatures: JSONCodable, Equatable {
    public var namespaces: [String]?
    public var capabilities: [String]?
    public var cgroup: CgroupFeatures?
    public var seccomp: SeccompFeatures?
    public var apparmor: EnabledFeature?
    public var selinux: EnabledFeature?
    public var intelRdt: IntelRdtFeatures?
    public var memoryPolicy: MemoryPolicyFeatures?
    public var mountExtensions: MountExtensionsFeatures?
    public var netDevices: EnabledFeature?

    public init() {}

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        namespaces = try r.optional("namespaces")
        capabilities = try r.optional("capabilities")
        cgroup = try r.optional("cgroup")
        seccomp = try r.optional("seccomp")
        apparmor = try r.optional("apparmor")
        selinux = try r.optional("selinux")
        intelRdt = try r.optional("intelRdt")
        memoryPolicy = try r.optional("memoryPolicy")
        mountExtensions = try r.optional("mountExtensions")
        netDevices = try r.optional("netDevices")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("namespaces", namespaces)
        b.set("capabilities", capabilities)
        b.set("cgroup", cgroup)
        b.set("seccomp", seccomp)
        b.set("apparmor", apparmor)
        b.set("selinux", selinux)
        b.set("intelRdt", intelRdt)
        b.set("memoryPolicy", memoryPolicy)
        b.set("mountExtensions", mountExtensions)
        b.set("netDevices", netDevices)
        return b.json
    }
}

public struct CgroupFeatures: JSONCodable, Equatable {
    public var v1: Bool?
    public var v2: Bool?
    public var systemd: Bool?
    public var systemdUser: Bool?
    public var rdma: Bool?

    public init(v1: Bool? = nil, v2: Bool? = nil, systemd: Bool? = nil, systemdUser: Bool? = nil, rdma: Bool? = nil) {
        self.v1 = v1
        self.v2 = v2
        self.systemd = systemd
        self.systemdUser = systemdUser
        self.rdma = rdma
    }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        v1 = try r.optional("v1")
        v2 = try r.optional("v2")
        systemd = try r.optional("systemd")
        systemdUser = try r.optional("systemdUser")
        rdma = try r.optional("rdma")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("v1", v1)
        b.set("v2", v2)
        b.set("systemd", systemd)
        b.set("systemdUser", systemdUser)
        b.set("rdma", rdma)
        return b.json
    }
}

public struct SeccompFeatures: JSONCodable, Equatable {
    public var enabled: Bool?
    public var actions: [String]?
    public var operators: [String]?
    public var archs: [String]?
    public var knownFlags: [String]?
    public var supportedFlags: [String]?

    public init(enabled: Bool? = nil) { self.enabled = enabled }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        enabled = try r.optional("enabled")
        actions = try r.optional("actions")
        operators = try r.optional("operators")
        archs = try r.optional("archs")
        knownFlags = try r.optional("knownFlags")
        supportedFlags = try r.optional("supportedFlags")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("enabled", enabled)
        b.set("actions", actions)
        b.set("operators", operators)
        b.set("archs", archs)
        b.set("knownFlags", knownFlags)
        b.set("supportedFlags", supportedFlags)
        return b.json
    }
}

/// `{"enabled": …}`: apparmor, selinux, netDevices and mountExtensions.idmap.
public struct EnabledFeature: JSONCodable, Equatable {
    public var enabled: Bool?

    public init(enabled: Bool? = nil) { self.enabled = enabled }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        enabled = try r.optional("enabled")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("enabled", enabled)
        return b.json
    }
}

public struct IntelRdtFeatures: JSONCodable, Equatable {
    public var enabled: Bool?
    public var schemata: Bool?
    public var monitoring: Bool?

    public init(enabled: Bool? = nil, schemata: Bool? = nil, monitoring: Bool? = nil) {
        self.enabled = enabled
        self.schemata = schemata
        self.monitoring = monitoring
    }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        enabled = try r.optional("enabled")
        schemata = try r.optional("schemata")
        monitoring = try r.optional("monitoring")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("enabled", enabled)
        b.set("schemata", schemata)
        b.set("monitoring", monitoring)
        return b.json
    }
}

public struct MemoryPolicyFeatures: JSONCodable, Equatable {
    public var modes: [String]?
    public var flags: [String]?

    public init(modes: [String]? = nil, flags: [String]? = nil) { self.modes = modes; self.flags = flags }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        modes = try r.optional("modes")
        flags = try r.optional("flags")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("modes", modes)
        b.set("flags", flags)
        return b.json
    }
}

public struct MountExtensionsFeatures: JSONCodable, Equatable {
    public var idmap: EnabledFeature?

    public init(idmap: EnabledFeature? = nil) { self.idmap = idmap }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        idmap = try r.optional("idmap")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("idmap", idmap)
        return b.json
    }
}
