@testable import ApusRuntime
import ApusSpec
import XCTest

/// The rule table of `apus check`/`inspect`, judged on facts filled by hand
/// and from configs (with a fake host: no root, no real namespaces).
final class RiskTests: XCTestCase {
    typealias Facts = IsolationFacts

    /// A fully isolated container: no rule applies.
    func isolated() -> Facts {
        var f = Facts()
        f.capabilitiesPath = "capabilities"
        f.capabilities[.bounding] = [.CAP_KILL]
        f.capabilities[.effective] = [.CAP_KILL]
        return f
    }

    /// One change per rule that makes it apply (rule id → change).
    let triggers: [String: (inout Facts) -> Void] = [
        "privileged": { f in f.capabilities[.effective] = Set(Capability.allCases) },
        "cap-sys-admin": { f in f.capabilities[.permitted] = [.CAP_SYS_ADMIN] },
        "cap-sys-module": { f in f.capabilities[.effective] = [.CAP_SYS_MODULE] },
        "cap-sys-ptrace": { f in f.capabilities[.ambient] = [.CAP_SYS_PTRACE] },
        "cap-net-admin": { f in f.capabilities[.effective] = [.CAP_NET_ADMIN] },
        "cap-dac-read-search": { f in f.capabilities[.effective] = [.CAP_DAC_READ_SEARCH] },
        "host-namespace-pid": { f in f.hostNamespaces[.pid] = "ns" },
        "host-namespace-net": { f in f.hostNamespaces[.network] = "ns" },
        "host-namespace-ipc": { f in f.hostNamespaces[.ipc] = "ns" },
        "host-namespace-uts": { f in f.hostNamespaces[.uts] = "ns" },
        "host-namespace-mnt": { f in f.hostNamespaces[.mount] = "ns" },
        "host-namespace-cgroup": { f in f.hostNamespaces[.cgroup] = "ns" },
        "no-user-namespace": { f in f.rootIsHostRoot.value = true },
        "new-privileges-allowed": { f in f.noNewPrivileges.value = false },
        "no-seccomp": { f in f.seccomp.value = .disabled },
        "no-memory-limit": { f in f.memoryLimit.value = nil },
        "no-pids-limit": { f in f.pidsLimit.value = nil },
        "writable-host-mount": { f in
            f.hostMounts = [.init(hostPath: "/data", destination: "/data", writable: true, isSocket: false, path: "mounts[0]")]
        },
        "proc-sys-writable": { f in f.writableProcSys.value = true },
        "sysfs-writable": { f in f.writableSysfs = [.init("/sys", at: "mounts[1]")] },
        "unmasked-proc": { f in f.unmaskedPaths.value = ["/proc/kcore"] },
        "host-device": { f in f.devices = [.init(name: "/dev/sda", type: "b", major: 8, minor: 0, path: "linux.devices[0]")] },
        "readonly-rootfs-off": { f in f.readonlyRootfs.value = false },
    ]

    func testEveryRuleHasATriggerAndIsQuietOtherwise() {
        XCTAssertEqual(Risks.evaluate(isolated()), [], "an isolated container has no risk")
        let ids = Risks.rules.map { $0.id }
        XCTAssertEqual(Set(ids).count, ids.count, "rule ids are unique")
        XCTAssertEqual(Set(ids), Set(triggers.keys), "each rule has a trigger in this test")
        for rule in Risks.rules {
            var f = isolated()
            triggers[rule.id]!(&f)
            let found = Risks.evaluate(f).map { $0.id }
            XCTAssertTrue(found.contains(rule.id), "\(rule.id) applies: \(found)")
            // A trigger sets off its own rule (privileged also means every capability rule).
            if rule.id != "privileged" { XCTAssertEqual(found, [rule.id], rule.id) }
        }
    }

    func testCapabilitiesReachableOnlyThroughBoundingWithoutNoNewPrivs() {
        var f = isolated()
        f.capabilities[.bounding] = Set(Capability.allCases)
        f.noNewPrivileges.value = true
        XCTAssertEqual(Risks.evaluate(f), [])
        f.noNewPrivileges.value = false
        let ids = Risks.evaluate(f).map { $0.id }
        XCTAssertEqual(ids.prefix(4), ["privileged", "cap-sys-admin", "cap-sys-module", "cap-dac-read-search"])
        XCTAssertTrue(ids.contains("new-privileges-allowed"))
    }

    func testPrivilegedNeedsEveryCapabilityTheHostCanGrant() {
        var f = isolated()
        f.capabilities[.effective] = Set(Capability.allCases.filter { $0 != .CAP_SYS_RESOURCE })
        XCTAssertFalse(Risks.evaluate(f).contains { $0.id == "privileged" })
        // a host (the caller of apus) without CAP_SYS_RESOURCE cannot give more
        f.hostCapabilities.remove(.CAP_SYS_RESOURCE)
        XCTAssertTrue(Risks.evaluate(f).contains { $0.id == "privileged" })
    }

    func testWritableHostMountSeverity() {
        func severity(_ path: String, socket: Bool = false, writable: Bool = true) -> RiskSeverity? {
            var f = isolated()
            f.hostMounts = [.init(hostPath: path, destination: "/x", writable: writable, isSocket: socket, path: "mounts[0]")]
            return Risks.evaluate(f).first?.severity
        }
        XCTAssertEqual(severity("/srv/data"), .medium)
        XCTAssertEqual(severity("/srv/data", writable: false), nil)
        XCTAssertEqual(severity("/run/docker.sock"), .high)
        XCTAssertEqual(severity("/srv/api", socket: true), .high)
        for p in ["/", "/etc", "/etc/", "/var/run", "/etc/shadow"] { XCTAssertEqual(severity(p), .high, p) }
    }

    func testRisksAreOrderedBySeverity() {
        var f = isolated()
        f.readonlyRootfs.value = false
        f.seccomp.value = .disabled
        f.hostNamespaces[.pid] = "linux.namespaces"
        XCTAssertEqual(Risks.evaluate(f).map { $0.severity }, [.high, .medium, .low])
    }

    // MARK: facts from a config

    let host = HostProbe(lastCap: 40, capabilities: Set(Capability.allCases), isHostNamespace: { path, type in path == "/host/ns/\(type.procName)" },
                         kind: { path in
                             switch path {
                             case "/proc/kcore", "/proc/keys", "/sys/firmware", "/srv": return .directory
                             case "/run/docker.sock": return .socket
                             case "/dev/sda": return .blockDevice(8, 0)
                             default: return nil
                             }
                         })

    func risks(_ spec: Spec) -> [Risk] { Risks.evaluate(IsolationFacts(config: spec, bundle: "/b", host: host)) }

    func testDefaultSpecHasOnlyTheExpectedFindings() {
        let found = risks(Spec.example(rootless: false))
        XCTAssertEqual(found.map { $0.id }, ["no-user-namespace", "no-seccomp", "no-memory-limit", "no-pids-limit", "host-namespace-cgroup"])
        XCTAssertFalse(found.contains { $0.severity == .high })
        XCTAssertEqual(found.first?.path, "linux.namespaces")
        // runc's rootless config keeps the host's network namespace.
        XCTAssertEqual(risks(Spec.example(rootless: true, uid: 1000, gid: 1000)).map { $0.id },
                       ["host-namespace-net", "no-seccomp", "no-memory-limit", "no-pids-limit", "host-namespace-cgroup"])
    }

    func testConfigFactsPointAtTheirJSONPaths() {
        var spec = Spec.example(rootless: false)
        spec.linux?.namespaces?.append(LinuxNamespace(type: .cgroup, path: "/host/ns/cgroup"))
        spec.linux?.namespaces?.append(LinuxNamespace(type: .user, path: "/other/ns/user"))
        spec.linux?.resources?.memory = MemoryResources(limit: 1 << 26)
        spec.linux?.resources?.pids = PidsResources(limit: 100)
        spec.linux?.seccomp = Seccomp(defaultAction: .SCMP_ACT_ERRNO)
        spec.linux?.maskedPaths = ["/proc/keys"]
        spec.linux?.readonlyPaths = []
        spec.linux?.devices = [LinuxDevice(path: "/dev/sda", type: "b", major: 8, minor: 0),
                               LinuxDevice(path: "/dev/null", type: "c", major: 1, minor: 3)]
        spec.process?.capabilities?.effective?.append(.CAP_SYS_ADMIN)
        spec.mounts? += [Mount(destination: "/var/run/docker.sock", type: "bind", source: "/run/docker.sock"),
                         Mount(destination: "/srv", source: "/srv", options: ["rbind", "ro"]),
                         Mount(destination: "/disk", source: "/dev/sda", options: ["bind"])]
        let found = risks(spec).map { "\($0.id) \($0.path)" }
        XCTAssertEqual(found, [
            "cap-sys-admin process.capabilities.effective",
            "writable-host-mount mounts[7]",
            "proc-sys-writable linux.readonlyPaths",
            "host-device mounts[9]",
            "host-device linux.devices[0]",
            "unmasked-proc linux.maskedPaths",
            "host-namespace-cgroup linux.namespaces[5].path",
        ])
        XCTAssertTrue(risks(spec).contains { $0.message.hasSuffix("not masked: /proc/kcore, /sys/firmware") })
    }

    func testUserNamespaceMappingRootToRoot() {
        var spec = Spec.example(rootless: true, uid: 0, gid: 0)
        XCTAssertEqual(risks(spec).first { $0.id == "no-user-namespace" }?.path, "linux.uidMappings[0]")
        spec.linux?.uidMappings = [IDMapping(containerID: 0, hostID: 100_000, size: 65536)]
        XCTAssertNil(risks(spec).first { $0.id == "no-user-namespace" })
    }

    func testWritableSysfsAndProcMounts() {
        var spec = Spec.example(rootless: false)
        spec.mounts = spec.mounts?.map { m in
            var m = m
            if m.type == "sysfs" { m.options = ["nosuid"] }
            return m
        }
        XCTAssertEqual(risks(spec).filter { $0.severity == .high }.map { "\($0.id) \($0.path)" }, ["sysfs-writable mounts[5]"])
        spec.linux?.readonlyPaths? += ["/sys"]
        XCTAssertEqual(risks(spec).filter { $0.severity == .high }.map { $0.id }, [])
    }
}
