@testable import ApusRuntime
import ApusSpec
import Glibc
import XCTest

/// AppArmor/SELinux write paths against a fake attr directory (neither LSM
/// is enabled here), and the checks for a host without them.
final class LSMTests: XCTestCase {
    /// A fake /proc/<pid>/attr: the files exist (as the kernel's do); the
    /// writer refuses a missing one with ENOENT, as procfs does.
    private func fakeAttr(apparmorDir: Bool) throws -> (root: String, write: LSM.AttrWriter) {
        var template = Array("/tmp/apus-attr-XXXXXX".utf8CString)
        let root = String(cString: mkdtemp(&template)!)
        addTeardownBlock { try? FS.removeTree(root) }
        var files = ["exec", "keycreate", "current"]
        if apparmorDir {
            try FS.mkdirAll(root + "/apparmor")
            files.append("apparmor/exec")
        }
        for f in files { try FS.writeAtomically(root + "/" + f, []) }
        return (root, { name, text in try FS.write(root + "/" + name, text) })
    }

    private func read(_ path: String) throws -> String { try String(decoding: FS.read(path), as: UTF8.self) }

    func testAppArmorProfileGoesToTheStackingAwareFileElseAttrExec() throws {
        var p = Process(args: ["true"])
        p.apparmorProfile = "docker-default"
        for (stacking, file) in [(true, "apparmor/exec"), (false, "exec")] {
            let attr = try fakeAttr(apparmorDir: stacking)
            try LSM.applyExec(p, write: attr.write)
            XCTAssertEqual(try read(attr.root + "/" + file), "exec docker-default")
            if stacking { XCTAssertEqual(try read(attr.root + "/exec"), "", "only the stacking-aware file") }
        }
    }

    func testSELinuxLabelForExecAndKeys() throws {
        let attr = try fakeAttr(apparmorDir: false)
        var p = Process(args: ["true"])
        p.selinuxLabel = "system_u:system_r:container_t:s0:c1,c2"
        try LSM.applyKeyCreate(p, write: attr.write)
        try LSM.applyExec(p, write: attr.write)
        XCTAssertEqual(try read(attr.root + "/keycreate"), "system_u:system_r:container_t:s0:c1,c2")
        XCTAssertEqual(try read(attr.root + "/exec"), "system_u:system_r:container_t:s0:c1,c2")
    }

    func testNoLabelsWriteNothing() throws {
        let attr = try fakeAttr(apparmorDir: true)
        try LSM.applyKeyCreate(Process(args: ["true"]), write: attr.write)
        try LSM.applyExec(Process(args: ["true"]), write: attr.write)
        XCTAssertEqual(try read(attr.root + "/exec") + read(attr.root + "/keycreate") + read(attr.root + "/apparmor/exec"), "")
    }

    func testMountLabelIsTheContextOptionOfNewFilesystems() {
        XCTAssertEqual(LSM.mountData("system_u:object_r:container_file_t:s0:c1,c2", type: "tmpfs"),
                       ["context=system_u:object_r:container_file_t:s0:c1,c2"])
        XCTAssertEqual(LSM.mountData("x", type: "devpts"), ["context=x"])
        for type in ["proc", "sysfs", "cgroup", "cgroup2", "mqueue"] { XCTAssertEqual(LSM.mountData("x", type: type), []) }
        XCTAssertEqual(LSM.mountData(nil, type: "tmpfs"), [])
    }

    func testHostWithoutTheLSMRefusesTheLabels() {
        var p = Process(args: ["true"])
        p.apparmorProfile = "docker-default"
        p.selinuxLabel = "system_u:system_r:container_t:s0"
        let none = LSM(apparmor: false, selinux: false)
        XCTAssertEqual(none.problems(p, at: JSONPath.root.key("process")).map(\.description), [
            "config.json: process.apparmorProfile: apparmor profile is specified in config, but apparmor is not enabled on this host",
            "config.json: process.selinuxLabel: selinux label is specified in config, but selinux is disabled or not supported",
        ])
        XCTAssertEqual(none.problems(mountLabel: "x").map(\.description),
                       ["config.json: linux.mountLabel: mount label is specified in config, but selinux is disabled or not supported"])
        let both = LSM(apparmor: true, selinux: true)
        XCTAssertTrue(both.problems(p, at: .root).isEmpty)
        XCTAssertTrue(both.problems(mountLabel: "x").isEmpty)
    }
}
