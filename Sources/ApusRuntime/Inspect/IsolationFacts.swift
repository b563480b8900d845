import ApusSpec

/// What a container isolates, in one small model: `apus check` fills it
/// from config.json (ConfigFacts.swift), `apus inspect` from the kernel
/// (KernelView.swift), and one rule table judges both (Risks.swift). Every
/// fact carries the path where it was seen: a config.json path for check,
/// a path in the inspect document for inspect. The defaults describe a
/// fully isolated container.
public struct IsolationFacts {
    /// A value and the path where it was seen.
    public struct Seen<T> {
        public var value: T
        public var path: String

        public init(_ value: T, at path: String) { self.value = value; self.path = path }
    }

    public enum CapabilitySet: String, CaseIterable {
        case bounding, effective, inheritable, permitted, ambient
    }

    public enum SeccompMode: String {
        case disabled, strict, filter
    }

    /// A bind mount of a host path (the rootfs itself and masks excluded).
    public struct HostMount {
        public var hostPath: String
        public var destination: String
        public var writable: Bool
        /// A Unix socket (docker.sock, containerd.sock, ...).
        public var isSocket: Bool
        public var path: String
    }

    /// A device node the container can open.
    public struct Device {
        public var name: String
        /// "c" or "b".
        public var type: String
        public var major: Int64
        public var minor: Int64
        public var path: String
    }

    public var capabilities: [CapabilitySet: Set<Capability>] = [:]
    /// Where the capabilities were seen, as a whole and set by set.
    public var capabilitiesPath = ""
    public var capabilitySetPaths: [CapabilitySet: String] = [:]
    /// Every capability the host can grant: the caller's bounding set.
    public var hostCapabilities = Set(Capability.allCases)
    public var noNewPrivileges = Seen(true, at: "")
    public var seccomp = Seen(SeccompMode.filter, at: "")
    /// Namespace types shared with the host (the caller of apus), each with
    /// where that was seen.
    public var hostNamespaces: [NamespaceType: String] = [:]
    /// uid 0 in the container is uid 0 on the host (no user namespace, or
    /// one that maps 0 to 0).
    public var rootIsHostRoot = Seen(false, at: "")
    /// nil: no limit.
    public var memoryLimit = Seen(Int64?.some(1), at: "")
    public var pidsLimit = Seen(Int64?.some(1), at: "")
    public var hostMounts: [HostMount] = []
    public var writableProcSys = Seen(false, at: "")
    /// The sysfs mounts the container can write to (destinations).
    public var writableSysfs: [Seen<String>] = []
    /// The standard masked paths (`Spec.defaultMaskedPaths`) that exist on
    /// this host and are not masked in the container.
    public var unmaskedPaths = Seen([String](), at: "")
    public var devices: [Device] = []
    public var readonlyRootfs = Seen(true, at: "")

    public init() {}

    /// Where a capability is held or can be gained: the effective,
    /// permitted and ambient sets, then the bounding set while no_new_privs
    /// is off (a setuid-root or file-capability program gains from it). Nil
    /// if the container cannot have it.
    func reach(_ cap: Capability) -> CapabilitySet? {
        let order: [CapabilitySet] = noNewPrivileges.value ? [.effective, .permitted, .ambient] : [.effective, .permitted, .ambient, .bounding]
        return order.first { capabilities[$0]?.contains(cap) == true }
    }

    /// Every capability the host can grant can be reached.
    var hasAllCapabilities: Bool {
        !hostCapabilities.isEmpty && hostCapabilities.allSatisfy { reach($0) != nil }
    }

    func path(of set: CapabilitySet) -> String { capabilitySetPaths[set] ?? capabilitiesPath }
}
