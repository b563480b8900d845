import ApusSpec

public enum RiskSeverity: String, CaseIterable {
    case high, medium, low

    var rank: Int { self == .high ? 0 : self == .medium ? 1 : 2 }
}

/// One risk found: which rule, how bad, where (a config.json path for
/// `check`, a path in the inspect document for `inspect`) and what.
public struct Risk: Equatable {
    public var id: String
    public var severity: RiskSeverity
    public var path: String
    public var message: String

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("id", id)
        b.set("severity", severity.rawValue)
        b.set("path", path)
        b.set("message", message)
        return b.json
    }
}

/// One rule: a stable id, its severity, what it means, and its test on the
/// facts. A test returns one finding per place the rule applies (none: the
/// rule does not apply); a finding may raise or lower the severity.
public struct RiskRule {
    public struct Finding {
        var path: String
        var message: String
        var severity: RiskSeverity?

        init(_ path: String, _ message: String, severity: RiskSeverity? = nil) {
            self.path = path
            self.message = message
            self.severity = severity
        }
    }

    public let id: String
    public let severity: RiskSeverity
    /// One line: what the rule flags (README, `--help`).
    public let summary: String
    let test: (IsolationFacts) -> [Finding]
}

/// The one rule set of `apus check` and `apus inspect`. Adding a rule is
/// adding one entry to `rules`.
public enum Risks {
    public static let rules: [RiskRule] = [
        RiskRule(id: "privileged", severity: .high, summary: "the container has every capability") { f in
            f.hasAllCapabilities ? [.init(f.capabilitiesPath, "every capability: root in the container has the host's full privileges")] : []
        },
        capability("cap-sys-admin", .CAP_SYS_ADMIN, .high, "mounts, namespaces, bpf and more: most of root's power"),
        capability("cap-sys-module", .CAP_SYS_MODULE, .high, "loads kernel modules into the host's kernel"),
        capability("cap-sys-ptrace", .CAP_SYS_PTRACE, .medium, "traces and reads the memory of any process it can see"),
        capability("cap-net-admin", .CAP_NET_ADMIN, .medium, "reconfigures interfaces, routes and firewall rules of its network namespace"),
        capability("cap-dac-read-search", .CAP_DAC_READ_SEARCH, .high, "open_by_handle_at reads any host file on a mounted filesystem"),
        hostNamespace(.pid, .high, "sees, signals and traces the host's processes"),
        hostNamespace(.network, .high, "uses the host's interfaces, ports and abstract Unix sockets"),
        hostNamespace(.ipc, .medium, "reaches the host's shared memory, semaphores and message queues"),
        hostNamespace(.uts, .low, "shares the host's hostname (and can change it with CAP_SYS_ADMIN)"),
        hostNamespace(.mount, .high, "works in the host's mount table"),
        hostNamespace(.cgroup, .low, "sees the host's cgroup paths"),
        RiskRule(id: "no-user-namespace", severity: .medium, summary: "root in the container is root on the host") { f in
            f.rootIsHostRoot.value ? [.init(f.rootIsHostRoot.path, "uid 0 in the container is uid 0 on the host: no user namespace maps it to an unprivileged uid")] : []
        },
        RiskRule(id: "new-privileges-allowed", severity: .medium, summary: "no_new_privs is off: setuid and file capabilities work") { f in
            f.noNewPrivileges.value ? [] : [.init(f.noNewPrivileges.path, "no_new_privs is off: setuid programs and file capabilities can raise privileges")]
        },
        RiskRule(id: "no-seccomp", severity: .medium, summary: "no seccomp filter: every syscall reaches the kernel") { f in
            f.seccomp.value == .disabled ? [.init(f.seccomp.path, "no seccomp filter: every syscall reaches the host's kernel")] : []
        },
        RiskRule(id: "no-memory-limit", severity: .medium, summary: "no memory limit in the container's cgroup") { f in
            f.memoryLimit.value == nil ? [.init(f.memoryLimit.path, "no memory limit: the container can use all of the host's memory")] : []
        },
        RiskRule(id: "no-pids-limit", severity: .medium, summary: "no pids limit in the container's cgroup") { f in
            f.pidsLimit.value == nil ? [.init(f.pidsLimit.path, "no pids limit: a fork bomb in the container exhausts the host's pids")] : []
        },
        RiskRule(id: "writable-host-mount", severity: .medium,
                 summary: "a writable bind mount of a host path (high for sockets like docker.sock and for /, /etc, /var/run, ...)") { f in
            f.hostMounts.filter { $0.writable }.map { m in
                let what = m.isSocket ? "the host socket" : "the host path"
                return .init(m.path, "\(what) \(m.hostPath) is mounted writable at \(m.destination)",
                             severity: isSensitive(m) ? .high : nil)
            }
        },
        RiskRule(id: "proc-sys-writable", severity: .high, summary: "/proc/sys is writable (host-wide kernel settings)") { f in
            f.writableProcSys.value ? [.init(f.writableProcSys.path, "/proc/sys is writable: root in the container can change host-wide kernel settings")] : []
        },
        RiskRule(id: "sysfs-writable", severity: .high, summary: "a sysfs mount is writable") { f in
            f.writableSysfs.map { .init($0.path, "sysfs at \($0.value) is writable: root in the container can change the host's devices and kernel") }
        },
        RiskRule(id: "unmasked-proc", severity: .medium, summary: "kernel files of /proc or /sys that runc masks are not masked") { f in
            f.unmaskedPaths.value.isEmpty ? []
                : [.init(f.unmaskedPaths.path, "not masked: \(f.unmaskedPaths.value.joined(separator: ", "))")]
        },
        RiskRule(id: "host-device", severity: .high, summary: "a device node other than the default ones") { f in
            f.devices.filter { !isDefaultDevice($0) }.map { d in
                .init(d.path, "device \(d.name) (\(d.type) \(d.major):\(d.minor)) gives direct access to host hardware or kernel interfaces")
            }
        },
        RiskRule(id: "readonly-rootfs-off", severity: .low, summary: "the root filesystem is writable") { f in
            f.readonlyRootfs.value ? [] : [.init(f.readonlyRootfs.path, "the root filesystem is writable")]
        },
    ]

    /// The risks of these facts, the most severe first (table order within a severity).
    public static func evaluate(_ facts: IsolationFacts) -> [Risk] {
        let found = rules.flatMap { rule in
            rule.test(facts).map { Risk(id: rule.id, severity: $0.severity ?? rule.severity, path: $0.path, message: $0.message) }
        }
        return RiskSeverity.allCases.flatMap { s in found.filter { $0.severity == s } }
    }

    private static func capability(_ id: String, _ cap: Capability, _ severity: RiskSeverity, _ what: String) -> RiskRule {
        RiskRule(id: id, severity: severity, summary: "\(cap.rawValue): \(what)") { f in
            guard let set = f.reach(cap) else { return [] }
            let how = set == .bounding ? " (bounding set, gainable by setuid programs)" : ""
            return [.init(f.path(of: set), "\(cap.rawValue)\(how): \(what)")]
        }
    }

    private static func hostNamespace(_ type: NamespaceType, _ severity: RiskSeverity, _ what: String) -> RiskRule {
        RiskRule(id: "host-namespace-\(type.procName)", severity: severity, summary: "the host's \(type.procName) namespace: \(what)") { f in
            guard let path = f.hostNamespaces[type] else { return [] }
            return [.init(path, "the host's \(type.procName) namespace: the container \(what)")]
        }
    }

    /// Host paths whose writable mount is as good as root on the host.
    static let sensitiveHostPaths: Set<String> = [
        "/", "/etc", "/var/run", "/run", "/root", "/boot", "/usr", "/var", "/var/lib", "/lib", "/bin", "/sbin",
        "/home", "/proc", "/sys", "/dev",
    ]

    static func isSensitive(_ m: IsolationFacts.HostMount) -> Bool {
        var p = m.hostPath
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        return m.isSocket || p.hasSuffix(".sock") || sensitiveHostPaths.contains(p)
            || p.hasPrefix("/proc/") || p.hasPrefix("/sys/") || p.hasPrefix("/etc/")
    }

    /// The nodes every container gets (Devices.defaults), its console and
    /// pty devices.
    static func isDefaultDevice(_ d: IsolationFacts.Device) -> Bool {
        guard d.type == "c" else { return false }
        if d.major == 136 || (d.major == 5 && (d.minor == 1 || d.minor == 2)) { return true }
        return Devices.defaults.contains { $0.major == d.major && $0.minor == d.minor }
    }
}
