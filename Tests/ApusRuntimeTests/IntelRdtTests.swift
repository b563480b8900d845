@testable import ApusRuntime
import ApusSpec
import Glibc
import XCTest

/// linux.intelRdt against a fake resctrl directory (no resctrl here): the
/// group, schemata, tasks and mon_groups writes, the feature checks, removal.
final class IntelRdtTests: XCTestCase {
    private func fakeResctrl(info: [String]) throws -> Resctrl {
        var template = Array("/tmp/apus-resctrl-XXXXXX".utf8CString)
        let root = String(cString: mkdtemp(&template)!)
        for dir in info { try FS.mkdirAll(root + "/info/" + dir) }
        addTeardownBlock { try? FS.removeTree(root) }
        return Resctrl(root: root)
    }

    private func read(_ path: String) throws -> String { try String(decoding: FS.read(path), as: UTF8.self) }

    func testApplyWritesGroupSchemataTasksAndMonitoringGroup() throws {
        let r = try fakeResctrl(info: ["L3", "MB", "L3_MON"])
        var rdt = IntelRdt(closID: "gold")
        rdt.l3CacheSchema = "L3:0=7f"
        rdt.memBwSchema = "MB:0=50"
        rdt.enableMonitoring = true
        XCTAssertTrue(Resctrl.problems(rdt, resctrl: r).isEmpty)
        try r.apply(rdt, id: "ctr1", pid: 4242)
        XCTAssertEqual(try read(r.root + "/gold/schemata"), "L3:0=7f\nMB:0=50\n", "one write per line, L3 first (runc's order)")
        XCTAssertEqual(try read(r.root + "/gold/tasks"), "4242\n")
        XCTAssertEqual(try read(r.root + "/gold/mon_groups/ctr1/tasks"), "4242\n")
        // an exec'd process joins both groups
        try r.join(rdt, id: "ctr1", pid: 4343)
        XCTAssertEqual(try read(r.root + "/gold/tasks"), "4242\n4343\n")
        // a closID group outlives the container; its monitoring group does not
        try FS.removeTree(r.root + "/gold/mon_groups/ctr1") // rmdir needs it empty: the kernel's files are not real ones
        try FS.mkdirAll(r.root + "/gold/mon_groups/ctr1")
        r.remove(rdt, id: "ctr1")
        XCTAssertFalse(FS.exists(r.root + "/gold/mon_groups/ctr1"))
        XCTAssertTrue(FS.exists(r.root + "/gold"))
    }

    func testWithoutClosIDTheGroupIsTheContainersOwn() throws {
        let r = try fakeResctrl(info: ["L3"])
        var rdt = IntelRdt()
        rdt.schemata = ["L3:0=3", "L3:1=3"]
        XCTAssertEqual(r.group(rdt, id: "c2"), r.root + "/c2")
        XCTAssertEqual(r.group(IntelRdt(closID: "/"), id: "c2"), r.root, "\"/\" is the default group")
        try r.apply(rdt, id: "c2", pid: 7)
        XCTAssertEqual(try read(r.root + "/c2/schemata"), "L3:0=3\nL3:1=3\n")
        try FS.removeTree(r.root + "/c2")
        try FS.mkdirAll(r.root + "/c2")
        r.remove(rdt, id: "c2")
        XCTAssertFalse(FS.exists(r.root + "/c2"))
    }

    func testProblemsNameTheField() throws {
        var rdt = IntelRdt()
        rdt.memBwSchema = "MB:0=20"
        XCTAssertEqual(Resctrl.problems(rdt, resctrl: nil).map(\.description),
                       ["config.json: linux.intelRdt.memBwSchema: Intel RDT/MBA is not enabled on this host (no resctrl filesystem is mounted)"])
        XCTAssertEqual(Resctrl.problems(IntelRdt(), resctrl: nil).map(\.description),
                       ["config.json: linux.intelRdt: Intel RDT is not enabled on this host (no resctrl filesystem is mounted)"])
        let r = try fakeResctrl(info: ["L3"])
        rdt.enableMonitoring = true
        let problems = Resctrl.problems(rdt, resctrl: r).map(\.description)
        XCTAssertEqual(problems.count, 2)
        XCTAssertTrue(problems[0].hasPrefix("config.json: linux.intelRdt.memBwSchema: Intel RDT/MBA is not enabled on this host (no "))
        XCTAssertTrue(problems[1].hasPrefix("config.json: linux.intelRdt.enableMonitoring: Intel RDT monitoring is not enabled"))
    }

    func testMountedFindsTheResctrlMount() {
        let info = "40 25 0:38 / /sys/fs/resctrl rw,relatime shared:20 - resctrl resctrl rw\n"
        XCTAssertEqual(Resctrl.mounted(MountEntry.parse(info))?.root, "/sys/fs/resctrl")
        XCTAssertNil(Resctrl.mounted(MountEntry.parse("")))
    }
}
