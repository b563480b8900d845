@testable import ApusRuntime
import ApusSpec
import XCTest

final class RootlessTests: XCTestCase {
    let uid: UInt32 = 1234, gid: UInt32 = 1235

    func rootless(_ change: (inout Spec) -> Void = { _ in }) -> Spec {
        var spec = Spec.example(rootless: true, uid: uid, gid: gid)
        change(&spec)
        return spec
    }

    func problems(_ spec: Spec, subordinate: SubordinateIDs = SubordinateIDs()) -> [String] {
        Rootless.problems(spec, uid: uid, gid: gid, subordinate: subordinate).map { "\($0)" }
    }

    func testSpecRootlessNeedsNothingMore() {
        XCTAssertEqual(problems(rootless()), [])
        // Root is not checked at all.
        XCTAssertTrue(Rootless.problems(Spec.example(rootless: false), uid: 0, gid: 0, subordinate: SubordinateIDs()).isEmpty)
    }

    func testNoUserNamespace() {
        let p = problems(Spec.example(rootless: false))
        XCTAssertEqual(p.count, 1)
        XCTAssertTrue(p[0].contains("linux.namespaces") && p[0].contains("rootless container requires user namespaces"), p[0])
    }

    func testMappingsMustBeOwnOrGranted() {
        let more = rootless { $0.linux?.uidMappings?.append(IDMapping(containerID: 1, hostID: 100_000, size: 10)) }
        let p = problems(more)
        XCTAssertEqual(p.count, 1)
        XCTAssertTrue(p[0].contains("linux.uidMappings[1]") && p[0].contains("/etc/subuid"), p[0])
        let granted = SubordinateIDs(uids: [100_000...165_535], gids: [])
        XCTAssertTrue(problems(more, subordinate: granted).allSatisfy { $0.contains("newuidmap") }, "\(problems(more, subordinate: granted))")
        let none = rootless { $0.linux?.gidMappings = [] }
        XCTAssertTrue(problems(none).first?.contains("linux.gidMappings") ?? false)
    }

    func testMountsOnlyRootMayMake() {
        let sysfs = rootless {
            $0.mounts = [Mount(destination: "/sys", type: "sysfs", source: "sysfs"),
                         Mount(destination: "/x", type: "ext4", source: "/dev/sda1"),
                         Mount(destination: "/t", type: "tmpfs", source: "tmpfs", options: ["uid=5"])]
        }
        let p = problems(sysfs)
        XCTAssertEqual(p.count, 3, "\(p)")
        XCTAssertTrue(p.contains { $0.contains("mounts[0]") && $0.contains("network namespace") })
        XCTAssertTrue(p.contains { $0.contains("mounts[1]") && $0.contains("ext4") })
        XCTAssertTrue(p.contains { $0.contains("mounts[2].options[0]") })
    }

    func testSubordinateIDs() {
        let text = "alice:100000:65536\nbob:200000:10\n1234:300000:5\nbad:x:1\nalice:1:0\n"
        XCTAssertEqual(SubordinateIDs.parse(text, keys: ["alice", "1234"]), [100_000...165_535, 300_000...300_004])
    }

    func testResourcesNeedingCgroups() {
        var r = Resources()
        XCTAssertTrue(RootlessCgroups.needed(r).isEmpty)
        r.pids = PidsResources(limit: 10)
        r.memory = MemoryResources()
        XCTAssertEqual(RootlessCgroups.needed(r).map { $0.1 }, ["pids"])
        r.memory?.limit = 1 << 20
        XCTAssertEqual(RootlessCgroups.needed(r).map { $0.1 }, ["memory", "pids"])
        let all = ["pids": "/p", "memory": "/m", "unified": "/u"]
        XCTAssertTrue(RootlessCgroups.provides(["pids": "/p"], all: all, "pids"))
        XCTAssertFalse(RootlessCgroups.provides(["unified": "/u"], all: all, "memory"))
        XCTAssertTrue(RootlessCgroups.provides(["unified": "/u"], all: ["unified": "/u"], "memory"))
    }
}
