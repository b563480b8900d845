import ApusSpec
import XCTest

final class DecodingTests: XCTestCase {
    func testDecodesProcess() throws {
        let spec = try XCTUnwrap(decodeSpec("""
        {"ociVersion": "1.2.0", "root": {"path": "rootfs"},
         "process": {"terminal": true, "consoleSize": {"height": 25, "width": 80},
           "user": {"uid": 1, "gid": 2, "umask": 63, "additionalGids": [5, 6]},
           "args": ["sh", "-c", "true"], "env": ["A=b"], "cwd": "/root",
           "capabilities": {"bounding": ["CAP_KILL"], "ambient": ["CAP_CHECKPOINT_RESTORE"]},
           "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 18446744073709551615, "soft": 1024}],
           "noNewPrivileges": true, "oomScoreAdj": -999,
           "scheduler": {"policy": "SCHED_RR", "priority": 3, "flags": ["SCHED_FLAG_RECLAIM"]},
           "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 2},
           "execCPUAffinity": {"initial": "0", "final": "1-3"}}}
        """))
        let p = try XCTUnwrap(spec.process)
        XCTAssertEqual(p.terminal, true)
        XCTAssertEqual(p.consoleSize, ConsoleSize(height: 25, width: 80))
        XCTAssertEqual(p.user, User(uid: 1, gid: 2, umask: 63, additionalGids: [5, 6]))
        XCTAssertEqual(p.args, ["sh", "-c", "true"])
        XCTAssertEqual(p.cwd, "/root")
        XCTAssertEqual(p.capabilities?.bounding, [.CAP_KILL])
        XCTAssertEqual(p.capabilities?.ambient?.first?.number, 40)
        XCTAssertNil(p.capabilities?.effective)
        XCTAssertEqual(p.rlimits, [POSIXRlimit(type: .RLIMIT_NOFILE, hard: .max, soft: 1024)])
        XCTAssertEqual(p.oomScoreAdj, -999)
        XCTAssertEqual(p.scheduler?.policy, .SCHED_RR)
        XCTAssertEqual(p.scheduler?.priority, 3)
        XCTAssertNil(p.scheduler?.nice)
        XCTAssertEqual(p.ioPriority?.class, .IOPRIO_CLASS_BE)
        XCTAssertEqual(p.ioPriority?.class_, .IOPRIO_CLASS_BE)
        XCTAssertEqual(p.execCPUAffinity?.final, "1-3")
        XCTAssertNil(p.apparmorProfile)
    }

    func testExecProcessJSONWithoutUserIsRoot() throws {
        let p = try Process.decodeForExec(bytes(#"{"args": ["id"], "cwd": "/"}"#), file: "p.json")
        XCTAssertEqual(p.user, User(uid: 0, gid: 0))
        let q = try Process.decodeForExec(bytes(#"{"args": ["id"], "cwd": "/", "user": null}"#), file: "p.json")
        XCTAssertEqual(q.user, User(uid: 0, gid: 0))
        let r = try Process.decodeForExec(bytes(#"{"args": ["id"], "cwd": "/", "user": {"uid": 5, "gid": 6}}"#), file: "p.json")
        XCTAssertEqual(r.user, User(uid: 5, gid: 6))
        XCTAssertThrowsError(try Process.decodeForExec(bytes(#"{"args": ["id"]}"#), file: "p.json")) {
            XCTAssertEqual("\($0)", "p.json: cwd: required property is missing")
        }
        XCTAssertThrowsError(try Process.decode(bytes(#"{"args": ["id"], "cwd": "/"}"#)), "config.json's process needs a user")
    }

    func testAbsentStaysAbsent() throws {
        let spec = try XCTUnwrap(decodeSpec(minimalConfig))
        XCTAssertNil(spec.process?.terminal)
        XCTAssertNil(spec.process?.env)
        XCTAssertNil(spec.root?.readonly)
        XCTAssertNil(spec.hostname)
        XCTAssertNil(spec.linux?.resources)
        XCTAssertNil(spec.linux?.namespaces?[0].path)
    }

    func testNullMeansAbsent() throws {
        let spec = try XCTUnwrap(decodeSpec("""
        {"ociVersion": "1.2.0", "hostname": null, "root": {"path": "r", "readonly": null},
         "process": {"user": {"uid": 0, "gid": 0}, "cwd": "/", "args": ["a"], "env": null}}
        """))
        XCTAssertNil(spec.hostname)
        XCTAssertNil(spec.root?.readonly)
        XCTAssertNil(spec.process?.env)
    }

    func testUnknownPropertiesAreIgnored() throws {
        let spec = try XCTUnwrap(decodeSpec("""
        {"ociVersion": "1.2.0", "root": {"path": "r", "future": [1, 2]}, "windows": {"layerFolders": []},
         "process": {"user": {"uid": 0, "gid": 0}, "cwd": "/", "args": ["a"], "x-extra": {"deep": {}}}}
        """))
        XCTAssertEqual(spec.root, Root(path: "r"))
        XCTAssertEqual(spec.validate(), [])
    }

    func testDuplicateKeysLastWins() throws {
        let spec = try XCTUnwrap(decodeSpec("""
        {"ociVersion": "1.0.0", "ociVersion": "1.2.0", "root": {"path": "a", "path": "b"}}
        """))
        XCTAssertEqual(spec.ociVersion, "1.2.0")
        XCTAssertEqual(spec.root?.path, "b")
    }

    func testDecodesLinux() throws {
        let spec = try XCTUnwrap(decodeSpec("""
        {"ociVersion": "1.2.0", "linux": {
          "namespaces": [{"type": "network", "path": "/run/netns/a"}, {"type": "time", "path": ""}],
          "devices": [{"path": "/dev/p", "type": "p"}, {"path": "/dev/c", "type": "c", "major": 1, "minor": 3, "fileMode": 438}],
          "timeOffsets": {"boottime": {"secs": -5}},
          "netDevices": {"eth0": {}},
          "resources": {"pids": {"limit": -1}, "rdma": {"mlx": {"hcaHandles": 3}}, "unified": {"memory.max": "max"},
                        "blockIO": {"weightDevice": [{"major": 8, "minor": 0, "weight": 10}]}},
          "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ERRNO",
                      "errnoRet": 1, "args": [{"index": 1, "value": 2, "op": "SCMP_CMP_MASKED_EQ", "valueTwo": 3}]}]},
          "intelRdt": {"closID": "g", "enableCMT": true},
          "memoryPolicy": {"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES"]},
          "personality": {"domain": "LINUX32"}}}
        """))
        let l = try XCTUnwrap(spec.linux)
        XCTAssertEqual(l.namespaces?[0], LinuxNamespace(type: .network, path: "/run/netns/a"))
        XCTAssertEqual(l.namespaces?[0].joinPath, "/run/netns/a")
        XCTAssertNil(l.namespaces?[1].joinPath, "an empty path means a new namespace")
        XCTAssertEqual(l.namespace(.time)?.path, "")
        XCTAssertNil(l.namespace(.pid))
        XCTAssertNil(l.devices?[0].major)
        XCTAssertEqual(l.devices?[1].fileMode, 438)
        XCTAssertEqual(l.timeOffsets?["boottime"], TimeOffset(secs: -5))
        XCTAssertEqual(l.netDevices?["eth0"], NetDevice())
        XCTAssertEqual(l.resources?.pids?.limit, -1)
        XCTAssertEqual(l.resources?.rdma?["mlx"], RdmaResource(hcaHandles: 3))
        XCTAssertEqual(l.resources?.blockIO?.weightDevice?.first, WeightDevice(major: 8, minor: 0, weight: 10))
        XCTAssertEqual(l.seccomp?.syscalls?.first?.args?.first,
                       SeccompArg(index: 1, value: 2, valueTwo: 3, op: .SCMP_CMP_MASKED_EQ))
        XCTAssertEqual(l.intelRdt?.enableCMT, true)
        XCTAssertEqual(l.memoryPolicy?.flags, [.MPOL_F_STATIC_NODES])
        XCTAssertEqual(l.personality?.domain.value, 8)
    }

    func testTypeErrorsNameThePath() {
        let cases: [(String, String)] = [
            (#"{"ociVersion": true}"#, "config.json: ociVersion: expected string, got boolean"),
            (#"{"ociVersion": "1.2.0", "root": "rootfs"}"#, "config.json: root: expected object, got string"),
            (#"{"ociVersion": "1.2.0", "mounts": {}}"#, "config.json: mounts: expected array, got object"),
            (#"{"ociVersion": "1.2.0", "mounts": [{"destination": 5}]}"#, "config.json: mounts[0].destination: expected string, got number"),
            (#"{"ociVersion": "1.2.0", "annotations": {"a b": null}}"#, #"config.json: annotations["a b"]: expected string, got null"#),
            (#"{"ociVersion": "1.2.0", "linux": {"resources": {"cpu": {"shares": -1}}}}"#,
             "config.json: linux.resources.cpu.shares: -1 is out of range (0...18446744073709551615)"),
            (#"{"ociVersion": "1.2.0", "linux": {"resources": {"cpu": {"quota": 1.0}}}}"#,
             "config.json: linux.resources.cpu.quota: expected integer, got 1.0"),
            (#"{"ociVersion": "1.2.0", "linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 4294967296}}}"#,
             "config.json: linux.seccomp.defaultErrnoRet: 4294967296 is out of range (0...4294967295)"),
            (#"{"ociVersion": "1.2.0", "process": {"user": {"uid": 0, "gid": 0}, "cwd": "/", "oomScoreAdj": 99999999999999999999}}"#,
             "config.json: process.oomScoreAdj: 99999999999999999999 is out of range (-9223372036854775808...9223372036854775807)"),
            (#"{"ociVersion": "1.2.0", "process": {"user": {"uid": 0, "gid": 0}, "cwd": "/", "scheduler": {"policy": "SCHED_OTHER", "nice": 2147483648}}}"#,
             "config.json: process.scheduler.nice: 2147483648 is out of range (-2147483648...2147483647)"),
            (#"{"ociVersion": "1.2.0", "process": {"user": {"uid": 0, "gid": 0}, "cwd": "/", "capabilities": {"bounding": "CAP_KILL"}}}"#,
             "config.json: process.capabilities.bounding: expected array, got string"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try Spec.decode(bytes(text)), text) { error in
                XCTAssertEqual("\(error)", expected)
            }
        }
    }

    func testErrorCarriesFileName() {
        XCTAssertThrowsError(try ContainerState.decode(bytes(#"{"id": 1}"#), file: "state.json")) { error in
            XCTAssertEqual("\(error)", "state.json: ociVersion: required property is missing")
        }
    }

    func testIntegerExtremes() throws {
        let spec = try XCTUnwrap(decodeSpec("""
        {"ociVersion": "1.2.0", "linux": {"resources": {
          "memory": {"limit": -9223372036854775808, "swap": 9223372036854775807},
          "hugepageLimits": [{"pageSize": "2MB", "limit": 18446744073709551615}]}}}
        """))
        XCTAssertEqual(spec.linux?.resources?.memory?.limit, .min)
        XCTAssertEqual(spec.linux?.resources?.memory?.swap, .max)
        XCTAssertEqual(spec.linux?.resources?.hugepageLimits?.first?.limit, .max)
    }
}
