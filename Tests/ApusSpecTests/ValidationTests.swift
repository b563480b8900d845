import ApusSpec
import XCTest

final class ValidationTests: XCTestCase {
    func testMinimalConfigIsValid() throws {
        XCTAssertEqual(validationErrors(minimalConfig), [])
        XCTAssertEqual(try XCTUnwrap(decodeSpec(minimalConfig)).warnings(), [])
    }

    /// `validate()` reports every problem, not just the first, in document order.
    func testReportsAllProblems() {
        let text = withJSON { c in
            c[path: ["ociVersion"]] = "3.0.0"
            c[path: ["process", "cwd"]] = "relative"
            c[path: ["process", "args"]] = [String]()
            c[path: ["hostname"]] = "h"
            c[path: ["linux", "namespaces"]] = [["type": "pid"], ["type": "pid"]]
            c[path: ["linux", "seccomp"]] = ["defaultAction": "SCMP_ACT_NOTIFY"]
        }
        XCTAssertEqual(validationErrors(text), [
            #"config.json: ociVersion: unsupported version "3.0.0" (want 1.x)"#,
            "config.json: process.args: must contain at least one entry",
            #"config.json: process.cwd: must be an absolute path, got "relative""#,
            "config.json: hostname: requires a uts namespace",
            #"config.json: linux.namespaces[1]: duplicate namespace type "pid""#,
            "config.json: linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action",
        ])
        XCTAssertEqual(loadError(text), #"config.json: ociVersion: unsupported version "3.0.0" (want 1.x)"#)
    }

    func testOciVersions() {
        for good in ["1.0.0", "1.2.1", "1.0.2-dev", "1.0.0-rc.1", "1.1.0+git.abc", "1.3.0-rc.1+build-5", "1.99.0"] {
            XCTAssertEqual(validationErrors(withJSON { $0["ociVersion"] = good }), [], good)
        }
        for bad in ["1", "1.2", "v1.2.0", "1.2.0.0", "01.2.0", "1.2.0-", "1.2.0-01", "1.2.0+", "1.2.0-a..b", " 1.2.0", ""] {
            XCTAssertEqual(validationErrors(withJSON { $0["ociVersion"] = bad }),
                           ["config.json: ociVersion: \"\(bad)\" is not a semantic version"], bad)
        }
        XCTAssertEqual(SemVer("1.2.3-rc.1+b")?.description, "1.2.3-rc.1+b")
        XCTAssertEqual(SemVer("18446744073709551615.0.0")?.major, .max)
        XCTAssertNil(SemVer("18446744073709551616.0.0"))
    }

    func testNamespaceRules() {
        func errors(_ namespaces: [[String: String]], _ extra: (inout [String: Any]) -> Void = { _ in }) -> [String] {
            validationErrors(withJSON { c in c[path: ["linux", "namespaces"]] = namespaces; extra(&c) })
        }
        // Joining a user namespace needs no mappings; creating one does.
        XCTAssertEqual(errors([["type": "user", "path": "/proc/1/ns/user"]]), [])
        XCTAssertEqual(errors([["type": "user"]]), [
            "config.json: linux.uidMappings: required for a new user namespace",
            "config.json: linux.gidMappings: required for a new user namespace",
        ])
        // An empty path is "no path" (Go omitempty), so this creates a time namespace.
        XCTAssertEqual(errors([["type": "time", "path": ""]]) { $0[path: ["linux", "timeOffsets"]] = ["boottime": ["secs": 1]] }, [])
        // Hostname with a joined UTS namespace is fine (runc checks presence only).
        XCTAssertEqual(errors([["type": "uts", "path": "/proc/1/ns/uts"]]) { $0["hostname"] = "h"; $0["domainname"] = "d" }, [])
        XCTAssertEqual(errors([["type": "pid"]]) { $0["hostname"] = "" }, [], "empty hostname means unset")
    }

    func testSysctlRules() {
        func errors(_ namespaces: [String], _ sysctl: [String: String]) -> [String] {
            validationErrors(withJSON { c in
                // Join the user namespace so it needs no mappings.
                c[path: ["linux", "namespaces"]] = namespaces.map { $0 == "user" ? ["type": $0, "path": "/proc/1/ns/user"] : ["type": $0] }
                c[path: ["linux", "sysctl"]] = sysctl
            })
        }
        XCTAssertEqual(errors(["ipc", "network", "uts", "user"], [
            "kernel.sem": "1 2 3 4", "fs.mqueue.queues_max": "1", "net.core.somaxconn": "1",
            "kernel.domainname": "x", "user.max_ipc_namespaces": "1",
        ]), [])
        XCTAssertEqual(errors(["pid"], ["kernel.domainname": "x", "kernel.panic": "1"]), [
            #"config.json: linux.sysctl["kernel.domainname"]: not in a separate kernel namespace"#,
            #"config.json: linux.sysctl["kernel.panic"]: not in a separate kernel namespace"#,
        ])
        // "/" separators are accepted, with "." then literal inside a component.
        XCTAssertEqual(errors(["network"], ["net/ipv4/conf/eth0.100/forwarding": "1"]), [])
        XCTAssertEqual(errors(["pid"], ["kernel/shmmax": "1"]),
                       [#"config.json: linux.sysctl["kernel/shmmax"]: requires an ipc namespace"#])
        // A name that climbs out of its family's directory under /proc/sys is no sysctl.
        XCTAssertEqual(errors(["network"], ["net/../kernel/core_pattern": "|/x", "net..ipv4": "1", "net.": "1"]), [
            #"config.json: linux.sysctl["net."]: not a sysctl name (empty, "." or ".." component)"#,
            #"config.json: linux.sysctl["net..ipv4"]: not a sysctl name (empty, "." or ".." component)"#,
            #"config.json: linux.sysctl["net/../kernel/core_pattern"]: not a sysctl name (empty, "." or ".." component)"#,
        ])
        XCTAssertEqual(Sysctl.procPath("net/ipv4/conf/eth0.100/forwarding"), "net/ipv4/conf/eth0.100/forwarding")
        XCTAssertEqual(Sysctl.procPath("net.ipv4.ip_forward"), "net/ipv4/ip_forward")
    }

    func testDeviceRules() {
        let text = withJSON { c in
            c[path: ["linux", "devices"]] = [
                ["path": "/dev/fifo", "type": "p"],
                ["path": "/dev/x", "type": "c", "major": 1],
                ["path": "/dev/y", "type": "B", "major": 1, "minor": 1],
            ]
        }
        XCTAssertEqual(validationErrors(text), [
            #"config.json: linux.devices[1].minor: required for device type "c""#,
            #"config.json: linux.devices[2].type: unknown device type "B" (want c, b, u or p)"#,
        ])
    }

    func testResourceRules() {
        let text = withJSON { c in
            c[path: ["linux", "resources"]] = [
                "devices": [["allow": true], ["allow": false, "type": "a", "access": ""]],
                "memory": ["limit": 100, "swap": -1, "reservation": -1, "swappiness": 100],
                "cpu": ["quota": -1, "burst": 5, "idle": 0, "cpus": "0,,2-3 ", "mems": ""],
                "unified": ["memory.max": "1", "cgroup.subtree_control": "+memory", "nodot": "1", ".hidden": "1"],
                "hugepageLimits": [["pageSize": "1GB", "limit": 1], ["pageSize": "02MB", "limit": 1], ["pageSize": "MB", "limit": 1]],
                "blockIO": ["weight": 5, "leafWeight": 0, "weightDevice": [["major": 8, "minor": 0, "weight": 2000], ["major": 8, "minor": 1, "weight": 10]]],
            ]
        }
        XCTAssertEqual(validationErrors(text), [
            #"config.json: linux.resources.blockIO.weight: 5 is out of range (10...1000, 0 for unset)"#,
            #"config.json: linux.resources.blockIO.weightDevice[0].weight: 2000 is out of range (10...1000, 0 for unset)"#,
            #"config.json: linux.resources.hugepageLimits[1].pageSize: invalid page size "02MB" (want e.g. "2MB")"#,
            #"config.json: linux.resources.hugepageLimits[2].pageSize: invalid page size "MB" (want e.g. "2MB")"#,
            #"config.json: linux.resources.unified[".hidden"]: must be a cgroup file name like "memory.max""#,
            #"config.json: linux.resources.unified.nodot: must be a cgroup file name like "memory.max""#,
        ])
    }

    func testSeccompRules() {
        let text = withJSON { c in
            c[path: ["linux", "seccomp"]] = [
                "defaultAction": "SCMP_ACT_TRACE", "defaultErrnoRet": 1, "listenerPath": "/run/a.sock",
                "syscalls": [
                    ["names": ["mknod"], "action": "SCMP_ACT_NOTIFY"],
                    ["names": ["ioctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 25,
                     "args": [["index": 5, "value": 1, "op": "SCMP_CMP_EQ"], ["index": 99, "value": 1, "op": "SCMP_CMP_EQ"]]],
                ],
            ]
        }
        XCTAssertEqual(validationErrors(text),
                       ["config.json: linux.seccomp.syscalls[1].args[1].index: 99 is out of range (0...5)"])
    }

    func testMountRules() {
        let text = withJSON { c in
            c[path: ["linux", "namespaces"]] = [["type": "mount"], ["type": "user"]]
            c[path: ["linux", "uidMappings"]] = [["containerID": 0, "hostID": 1, "size": 1]]
            c[path: ["linux", "gidMappings"]] = [["containerID": 0, "hostID": 1, "size": 1]]
            c["mounts"] = [
                ["destination": "/a", "source": "/b", "options": ["rbind", "idmap"]], // uses the container's userns
                ["destination": "/c", "source": "/d", "options": ["bind"], "gidMappings": [["containerID": 0, "hostID": 1, "size": 0]]],
            ]
        }
        XCTAssertEqual(validationErrors(text), [
            "config.json: mounts[1].uidMappings: required when gidMappings is set",
            "config.json: mounts[1].gidMappings[0].size: must be greater than zero",
        ])
    }

    func testWarnings() throws {
        let spec = try XCTUnwrap(decodeSpec(withJSON { c in
            c["mounts"] = [["destination": "tmp", "type": "tmpfs"]]
            c[path: ["process", "consoleSize"]] = ["height": 1, "width": 1]
            c[path: ["linux", "personality"]] = ["domain": "LINUX", "flags": ["X"]]
            c[path: ["linux", "intelRdt"]] = ["l3CacheSchema": "0=ff"]
        }))
        XCTAssertEqual(spec.validate(), [])
        XCTAssertEqual(spec.warnings().map(\.description), [
            "config.json: process.consoleSize: ignored because process.terminal is not true",
            #"config.json: mounts[0].destination: relative path "tmp" is deprecated: taken as "/tmp" inside the rootfs"#,
            #"config.json: linux.intelRdt.l3CacheSchema: should start with "L3:""#,
            "config.json: linux.personality.flags: ignored: no personality flags are supported",
        ])
    }

    func testMessagesStayOnOneLine() {
        let text = withJSON { $0[path: ["process", "cwd"]] = "a\nb\u{1}" }
        XCTAssertEqual(validationErrors(text), [#"config.json: process.cwd: must be an absolute path, got "a\nb\u0001""#])
    }

    func testProcessOnItsOwn() throws {
        let process = try Process.decode(bytes(#"{"user": {"uid": 0, "gid": 0}, "cwd": "work", "args": []}"#), file: "process.json")
        XCTAssertEqual(process.validate().map(\.description), [
            "process.json: args: must contain at least one entry",
            #"process.json: cwd: must be an absolute path, got "work""#,
        ])
    }

    func testCPUList() throws {
        XCTAssertEqual(try CPUList.parse(""), [])
        XCTAssertEqual(try CPUList.parse("0-3,7"), [0...3, 7...7])
        XCTAssertEqual(try CPUList.parse(" 1 ,, 2-2 ,"), [1...1, 2...2])
        XCTAssertEqual(try CPUList.parse("65536"), [65536...65536])
        for bad in ["-1", "1-", "a", "1-2-3", "3-1", "65537", "0x1", "1;2", "99999999999999999999999"] {
            XCTAssertThrowsError(try CPUList.parse(bad), bad)
        }
    }
}
