@testable import ApusRuntime
import XCTest

final class CgroupLayoutTests: XCTestCase {
    // Lines as this project's CI host shows them (the v1 hybrid layout).
    let hybrid = """
    31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
    32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
    33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
    35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
    40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
    41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
    """

    func testHybridLayout() {
        let hs = Cgroups.hierarchies(mountinfo: hybrid)
        XCTAssertEqual(hs.map { $0.key }, ["cpu", "cpuacct", "memory", "name=systemd", "unified"])
        XCTAssertEqual(hs.first { $0.key == "unified" }?.mountPoint, "/sys/fs/cgroup/unified")
        XCTAssertEqual(Cgroups.layout(hs), .hybrid)
    }

    func testPureV2AndV1() {
        let v2 = "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate"
        XCTAssertEqual(Cgroups.layout(Cgroups.hierarchies(mountinfo: v2)), .v2)
        let v1 = "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct"
        let hs = Cgroups.hierarchies(mountinfo: v1)
        XCTAssertEqual(hs.map { $0.key }, ["cpu,cpuacct"])
        XCTAssertEqual(Cgroups.layout(hs), .v1)
        XCTAssertEqual(Cgroups.layout([]), .none)
    }

    func testOptionalFieldsAndDuplicateMounts() {
        // Optional fields (shared:N) sit before the " - " separator; a
        // hierarchy bind-mounted twice counts once.
        let text = """
        35 31 0:32 / /sys/fs/cgroup/memory rw shared:9 master:2 - cgroup cgroup rw,memory
        90 80 0:32 /x /tmp/other rw - cgroup cgroup rw,memory
        """
        XCTAssertEqual(Cgroups.hierarchies(mountinfo: text).map { $0.mountPoint }, ["/sys/fs/cgroup/memory"])
    }

    func testMountRootIsStrippedFromOwnPaths() {
        let nested = "35 31 0:32 /bats-nest /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids"
        let h = Cgroups.hierarchies(mountinfo: nested)[0]
        XCTAssertEqual(h.root, "/bats-nest")
        XCTAssertEqual(Cgroups.visible("/bats-nest", under: h.root), "/")
        XCTAssertEqual(Cgroups.visible("/bats-nest/x", under: h.root), "/x")
        XCTAssertEqual(Cgroups.visible("/other", under: h.root), "/other")
        XCTAssertEqual(Cgroups.visible("/a/b", under: "/"), "/a/b")
    }

    func testMountinfoEscapes() {
        XCTAssertEqual(MountEntry.unescape("/a\\040b"), "/a b")
        XCTAssertEqual(MountEntry.unescape("/plain"), "/plain")
    }
}
