import ApusSpec
import Foundation
import XCTest

final class RoundTripTests: XCTestCase {
    /// A config built in code survives encode + decode unchanged.
    func testBuiltSpecRoundTrips() throws {
        var spec = Spec(ociVersion: "1.2.1")
        var process = Process(user: User(uid: 1, gid: 1, umask: 0o22, additionalGids: [10]), args: ["sh"], env: ["A=1"], cwd: "/")
        process.terminal = true
        process.consoleSize = ConsoleSize(height: 40, width: 120)
        process.capabilities = LinuxCapabilities(bounding: Capability.allCases, ambient: [])
        process.rlimits = [POSIXRlimit(type: .RLIMIT_CORE, hard: .max, soft: 0)]
        process.oomScoreAdj = 0
        var scheduler = Scheduler(policy: .SCHED_DEADLINE)
        scheduler.runtime = 1
        scheduler.deadline = 2
        scheduler.period = 3
        process.scheduler = scheduler
        process.ioPriority = IOPriority(class: .IOPRIO_CLASS_RT, priority: 0)
        process.execCPUAffinity = ExecCPUAffinity(initial: "0", final: "1")
        spec.process = process
        spec.root = Root(path: "rootfs", readonly: false)
        spec.mounts = [Mount(destination: "/proc", type: "proc", source: "proc", options: [])]
        var hooks = Hooks()
        hooks.poststop = [Hook(path: "/bin/true", args: ["true"], env: [], timeout: 3)]
        spec.hooks = hooks
        spec.annotations = ["b": "2", "a": "1"]
        var linux = Linux()
        linux.namespaces = NamespaceType.allCases.map { LinuxNamespace(type: $0) }
        linux.uidMappings = [IDMapping(containerID: 0, hostID: 1000, size: 1)]
        linux.gidMappings = [IDMapping(containerID: 0, hostID: 1000, size: 1)]
        linux.devices = [LinuxDevice(path: "/dev/null", type: "c", major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0)]
        var resources = Resources()
        resources.memory = MemoryResources(limit: 1 << 30, reservation: nil, swap: -1)
        resources.cpu = CPUResources(shares: 2, quota: -1, period: 100_000, cpus: "0", mems: "0")
        resources.pids = PidsResources(limit: 100)
        resources.devices = [DeviceCgroupRule(allow: false, access: "rwm")]
        resources.blockIO = BlockIOResources(weight: 100)
        resources.hugepageLimits = [HugepageLimit(pageSize: "2MB", limit: 0)]
        resources.network = NetworkResources(classID: 1, priorities: [InterfacePriority(name: "eth0", priority: 1)])
        resources.rdma = ["mlx": RdmaResource(hcaObjects: 1)]
        resources.unified = ["memory.high": "max"]
        linux.resources = resources
        linux.seccomp = Seccomp(defaultAction: .SCMP_ACT_ALLOW, syscalls: [
            SeccompSyscall(names: ["x"], action: .SCMP_ACT_ERRNO, errnoRet: 1,
                           args: [SeccompArg(index: 0, value: .max, op: .SCMP_CMP_EQ)]),
        ])
        linux.intelRdt = IntelRdt(closID: "/")
        linux.memoryPolicy = MemoryPolicy(mode: .MPOL_LOCAL)
        linux.personality = Personality(domain: .LINUX)
        linux.timeOffsets = ["monotonic": TimeOffset(secs: 1, nanosecs: 2)]
        linux.netDevices = ["eth1": NetDevice(name: "eth9")]
        linux.sysctl = ["net.ipv4.ip_forward": "1"]
        spec.linux = linux

        let text = JSONWriter.indented(spec.json)
        let decoded = try Spec.decode(bytes(text))
        XCTAssertEqual(decoded, spec)
        XCTAssertEqual(JSONWriter.indented(decoded.json), text)
        XCTAssertEqual(spec.validate(), [])
    }

    /// Keys come out in the Go struct order, so output diffs cleanly against runc's.
    func testKeyOrderFollowsGo() throws {
        var p = Process(user: User(uid: 0, gid: 0), args: ["sh"], env: ["A=1"], cwd: "/")
        p.noNewPrivileges = true
        p.terminal = false
        p.capabilities = LinuxCapabilities(effective: [.CAP_KILL], ambient: [.CAP_KILL])
        XCTAssertEqual(JSONWriter.compact(p.json),
                       #"{"terminal":false,"user":{"uid":0,"gid":0},"args":["sh"],"env":["A=1"],"cwd":"/","#
                           + #""capabilities":{"effective":["CAP_KILL"],"ambient":["CAP_KILL"]},"noNewPrivileges":true}"#)
        let ns = LinuxNamespace(type: .network, path: "/run/netns/x")
        XCTAssertEqual(JSONWriter.compact(ns.json), #"{"type":"network","path":"/run/netns/x"}"#)
        let io = IOPriority(class: .IOPRIO_CLASS_BE, priority: 4)
        XCTAssertEqual(JSONWriter.compact(io.json), #"{"class":"IOPRIO_CLASS_BE","priority":4}"#)
        let aff = ExecCPUAffinity(initial: "0-1", final: "2")
        XCTAssertEqual(JSONWriter.compact(aff.json), #"{"initial":"0-1","final":"2"}"#)
    }

    func testMapsEncodeWithSortedKeys() {
        var linux = Linux()
        linux.sysctl = ["z": "1", "a": "2", "m": "3"]
        XCTAssertEqual(JSONWriter.compact(linux.json), #"{"sysctl":{"a":"2","m":"3","z":"1"}}"#)
    }

    func testStateMatchesSchema() throws {
        let state = ContainerState(ociVersion: "1.2.1", id: "c1", status: "running", pid: 42, bundle: "/b",
                                   annotations: ["k": "v"])
        XCTAssertEqual(JSONWriter.compact(state.json),
                       #"{"ociVersion":"1.2.1","id":"c1","status":"running","pid":42,"bundle":"/b","annotations":{"k":"v"}}"#)
        XCTAssertEqual(try ContainerState.decode(bytes(JSONWriter.compact(state.json))), state)
        // Like Go's omitempty: no pid once the process is gone, no empty annotations.
        let stopped = ContainerState(ociVersion: "1.2.1", id: "c1", status: "stopped", pid: 0, bundle: "/b", annotations: [:])
        XCTAssertEqual(JSONWriter.compact(stopped.json), #"{"ociVersion":"1.2.1","id":"c1","status":"stopped","bundle":"/b"}"#)
        XCTAssertEqual(ContainerStatus.allCases.map(\.rawValue), ["creating", "created", "running", "stopped"])
    }

    func testStateFixture() throws {
        let data = try Data(contentsOf: fixturesURL.appendingPathComponent("state/runtime-spec-example.json"))
        let original = try JSONParser.parse(Array(data))
        let state = try ContainerState.decode(Array(data), file: "state.json")
        XCTAssertEqual(state.pid, 4422)
        XCTAssertEqual(canonical(state.json), canonical(original))
    }

    func testContainerProcessState() throws {
        let state = ContainerState(ociVersion: "1.2.1", id: "c", status: "creating", pid: 7, bundle: "/b")
        let cps = ContainerProcessState(ociVersion: "1.2.1", fds: [ContainerProcessState.seccompFdName], pid: 7,
                                        metadata: "m", state: state)
        XCTAssertEqual(JSONWriter.compact(cps.json),
                       #"{"ociVersion":"1.2.1","fds":["seccompFd"],"pid":7,"metadata":"m","state":"#
                           + #"{"ociVersion":"1.2.1","id":"c","status":"creating","pid":7,"bundle":"/b"}}"#)
        XCTAssertEqual(try ContainerProcessState.decode(bytes(JSONWriter.compact(cps.json))), cps)
    }

    func testFeaturesFixtureRoundTrips() throws {
        let data = try Data(contentsOf: fixturesURL.appendingPathComponent("features/runtime-spec-runc-example.json"))
        let original = try JSONParser.parse(Array(data))
        let features = try Features.decode(Array(data), file: "features.json")
        XCTAssertEqual(features.ociVersionMax, "1.0.2-dev")
        XCTAssertEqual(features.linux?.seccomp?.enabled, true)
        XCTAssertEqual(features.linux?.cgroup?.systemdUser, true)
        XCTAssertEqual(features.annotations?["org.opencontainers.runc.version"], "1.1.0+dev")
        XCTAssertNil(firstDifference(canonical(original), canonical(features.json)))
    }

    func testFeaturesBuiltInCode() throws {
        var f = Features(ociVersionMin: "1.0.0", ociVersionMax: "1.2.1")
        f.hooks = ["prestart"]
        var linux = LinuxFeatures()
        linux.namespaces = NamespaceType.allCases.map(\.rawValue)
        linux.cgroup = CgroupFeatures(v1: false, v2: true, systemd: true, systemdUser: true, rdma: false)
        linux.seccomp = SeccompFeatures(enabled: true)
        linux.apparmor = EnabledFeature(enabled: false)
        linux.intelRdt = IntelRdtFeatures(enabled: false)
        linux.memoryPolicy = MemoryPolicyFeatures(modes: ["MPOL_BIND"], flags: [])
        linux.mountExtensions = MountExtensionsFeatures(idmap: EnabledFeature(enabled: true))
        f.linux = linux
        XCTAssertTrue(JSONWriter.compact(f.json).hasPrefix(#"{"ociVersionMin":"1.0.0","ociVersionMax":"1.2.1","hooks":["prestart"],"linux":{"namespaces":"#))
        XCTAssertEqual(try Features.decode(bytes(JSONWriter.indented(f.json))), f)
        XCTAssertThrowsError(try Features.decode(bytes(#"{"ociVersionMin": "1.0.0"}"#), file: "features.json")) {
            XCTAssertEqual("\($0)", "features.json: ociVersionMax: required property is missing")
        }
    }
}
