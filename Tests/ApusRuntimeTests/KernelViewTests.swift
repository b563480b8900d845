@testable import ApusRuntime
import ApusSpec
import XCTest

/// The /proc and cgroup-file parsers of `apus inspect`, fed with text as
/// the kernel writes it (no root, no container).
final class KernelViewTests: XCTestCase {
    let status = """
    Name:\tsleep
    Umask:\t0022
    State:\tS (sleeping)
    Uid:\t0\t1\t2\t3
    Gid:\t10\t11\t12\t13
    Groups:\t 5 20
    CapInh:\t0000000000000000
    CapPrm:\t0000000020000420
    CapEff:\t0000000020000420
    CapBnd:\t000001ffffffffff
    CapAmb:\t0000000000000000
    NoNewPrivs:\t1
    Seccomp:\t2
    Seccomp_filters:\t3
    Speculation_Store_Bypass:\tthread vulnerable
    """

    func testStatus() {
        let s = KernelView.parseStatus(status)
        XCTAssertEqual(s.uids, [0, 1, 2, 3])
        XCTAssertEqual(s.gids, [10, 11, 12, 13])
        XCTAssertEqual(s.groups, [5, 20])
        XCTAssertTrue(s.noNewPrivileges)
        XCTAssertEqual(s.seccompMode, 2)
        XCTAssertEqual(s.seccompFilters, 3)
        XCTAssertEqual(KernelView.capabilityNames(s.capabilities[.effective]!), ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"])
        XCTAssertEqual(KernelView.capabilities(s.capabilities[.bounding]!), Set(Capability.allCases))
        XCTAssertEqual(KernelView.capabilityNames(1 << 45), ["CAP_45"], "a capability newer than this build keeps its number")
        XCTAssertEqual(KernelView.parseStatus("Groups:\t\nNoNewPrivs:\t0").groups, [])
    }

    func testIDMapsAndNamespaceLinks() {
        let maps = KernelView.parseIDMap("         0     100000      65536\n     65536          0          1\n")
        XCTAssertEqual(maps, [IDMapping(containerID: 0, hostID: 100_000, size: 65536), IDMapping(containerID: 65536, hostID: 0, size: 1)])
        XCTAssertEqual(KernelView.parseIDMap(""), [])
        XCTAssertEqual(KernelView.inode("net:[4026531840]"), 4_026_531_840)
        XCTAssertNil(KernelView.inode("net:4026531840"))
    }

    func testHostPathOfContainerMounts() {
        let host = MountEntry.parse("""
        27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
        24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw
        35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        70 27 254:0 /srv/data /mnt/data rw - ext4 /dev/vda rw
        """)
        let container = MountEntry.parse("""
        98 55 254:0 /tmp/b/rootfs / rw,relatime - ext4 /dev/vda rw
        99 98 0:51 / /proc rw,relatime - proc proc rw
        57 99 0:6 /null /proc/keys rw,relatime - devtmpfs devtmpfs rw
        109 105 0:32 /a/c1 /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory
        120 98 254:0 /srv/data/x /x rw - ext4 /dev/vda rw
        121 98 0:60 / /data ro - xfs /dev/vdb rw
        """)
        XCTAssertEqual(container.map { KernelView.hostPath(of: $0, in: host) },
                       ["/tmp/b/rootfs", nil, "/dev/null", "/sys/fs/cgroup/memory/a/c1", "/mnt/data/x", nil])
        XCTAssertEqual(container.map { $0.isWritable }, [true, true, true, false, true, false])
        XCTAssertEqual(container[3].options, ["ro", "nosuid"])
        XCTAssertEqual(container[3].majorMinor, "0:32")
    }

    func testMountsHiddenByLaterOnes() {
        // An rbind of /sys brings the host's cgroup mounts; the config's own
        // tmpfs on /sys/fs/cgroup then covers them (and only them).
        let table = MountEntry.parse("""
        1 0 254:0 /r / rw - ext4 /dev/vda rw
        2 1 0:22 / /sys ro - sysfs sysfs rw
        3 2 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw
        4 3 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
        5 3 0:40 / /sys/fs/cgroup rw - tmpfs tmpfs rw
        6 5 0:32 /c1 /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory
        7 1 0:51 / /proc rw - proc proc rw
        """)
        XCTAssertEqual(MountEntry.hidden(table), [false, false, true, true, false, false, false])
    }

    func testMountsMadeDetachedAreListedFirstYetVisible() {
        // apus clones a bind source (id 50) before the rootfs bind (60) and
        // moves it onto /data under it; a later mount under /data made
        // through the underlying directory's fd (70) is covered by it.
        let table = MountEntry.parse("""
        50 60 254:0 /src /data rw - ext4 /dev/vda rw
        60 0 254:0 /r / rw - ext4 /dev/vda rw
        70 60 0:40 / /data/sub rw - tmpfs tmpfs rw
        80 60 0:41 / / rw - tmpfs tmpfs rw
        """)
        XCTAssertEqual(MountEntry.hidden(Array(table.prefix(3))), [false, false, true])
        XCTAssertEqual(MountEntry.hidden(table), [true, true, true, false], "a tmpfs stacked on / covers everything")
    }

    func testCgroupLimitsV1AndV2() {
        let v1Files = [
            "/m/memory.limit_in_bytes": "9223372036854771712", "/p/pids.max": "100",
            "/c/cpu.cfs_quota_us": "50000", "/c/cpu.cfs_period_us": "100000", "/c/cpu.shares": "512",
            "/s/cpuset.cpus": "0-1", "/s/cpuset.mems": "0",
        ]
        let v1 = CgroupLimits.read(["memory": "/m", "pids": "/p", "cpu,cpuacct": "/c", "cpuset": "/s", "unified": "/u"]) { v1Files[$0] }
        XCTAssertEqual(v1, CgroupLimits(memory: -1, pids: 100, cpuQuota: 50000, cpuPeriod: 100_000, cpuShares: 512, cpus: "0-1", mems: "0"))
        let v2Files = ["/u/memory.max": "67108864", "/u/pids.max": "max", "/u/cpu.max": "max 100000", "/u/cpu.weight": "100",
                       "/u/cpuset.cpus.effective": "0"]
        let v2 = CgroupLimits.read(["unified": "/u"]) { v2Files[$0] }
        XCTAssertEqual(v2, CgroupLimits(memory: 67_108_864, pids: -1, cpuQuota: -1, cpuPeriod: 100_000, cpuWeight: 100, cpus: "0"))
        XCTAssertEqual(JSONWriter.compact(v2.json), #"{"memory":{"limit":67108864},"pids":{"limit":-1},"cpu":{"quota":-1,"period":100000,"weight":100},"cpuset":{"cpus":"0"}}"#)
        XCTAssertEqual(CgroupLimits.read([:]) { _ in nil }, CgroupLimits(), "no controller: nothing to report")
    }

    func testCgroupDirectoriesFromProcPIDCgroup() {
        let hs = Cgroups.hierarchies(mountinfo: """
        35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
        32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
        41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
        """)
        let dirs = Cgroups.directories(membership: "4:memory:/a/c1\n2:cpu,cpuacct:/c1\n0::/c1\n", hierarchies: hs)
        XCTAssertEqual(dirs, ["memory": "/sys/fs/cgroup/memory/a/c1", "cpu,cpuacct": "/sys/fs/cgroup/cpu,cpuacct/c1",
                              "unified": "/sys/fs/cgroup/unified/c1"])
    }

    /// The kernel's facts feed the same rules as a config's, with paths into the inspect document.
    func testKernelFactsFeedTheRuleTable() {
        var r = InspectReport(id: "c1", status: .running, pid: 42)
        r.namespaces = [.init(type: .pid, inode: 1, sharedWithHost: false), .init(type: .network, inode: 2, sharedWithHost: true),
                        .init(type: .user, inode: 3, sharedWithHost: false)]
        r.uidMap = [IDMapping(containerID: 0, hostID: 100_000, size: 65536)]
        r.seccompMode = .filter
        r.limits = CgroupLimits(memory: 1 << 26, pids: -1)
        r.mounts = MountEntry.parse("""
        98 55 254:0 /tmp/b/rootfs / ro - ext4 /dev/vda rw
        99 98 0:51 / /proc rw - proc proc rw
        63 99 0:51 /sys /proc/sys ro - proc proc rw
        104 98 0:55 / /sys rw,nosuid - sysfs sysfs rw
        120 98 254:0 /srv /srv rw - ext4 /dev/vda rw
        """).map { InspectReport.MountPoint(entry: $0, hostSource: $0.mountPoint == "/srv" ? "/srv" : nil) }
        r.devices = [(path: "/dev/null", type: "c", major: 1, minor: 3), (path: "/dev/sda", type: "b", major: 8, minor: 0)]
        var st = KernelView.Status()
        st.noNewPrivileges = true
        st.capabilities[.effective] = 1 << 21
        let facts = IsolationFacts(kernel: r, status: st, hostCapabilities: Set(Capability.allCases))
        XCTAssertEqual(Risks.evaluate(facts).map { "\($0.id) \($0.path)" }, [
            "cap-sys-admin capabilities.effective",
            "host-namespace-net namespaces[1]",
            "sysfs-writable mounts[3]",
            "host-device devices[1]",
            "no-pids-limit cgroup.pids.limit",
            "writable-host-mount mounts[4]",
        ] + (FS.exists("/proc/keys") || FS.exists("/proc/kcore") ? ["unmasked-proc mounts"] : []))
        XCTAssertEqual(IsolationFacts.covering("/proc/sys", r.mounts), 2)
        XCTAssertEqual(IsolationFacts.covering("/proc/self", r.mounts), 1)
    }
}
