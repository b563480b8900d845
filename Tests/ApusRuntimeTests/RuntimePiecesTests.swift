@testable import ApusRuntime
import ApusSpec
import Glibc
import XCTest

final class RuntimePiecesTests: XCTestCase {
    func testSignals() throws {
        XCTAssertEqual(try Signals.parse("KILL"), SIGKILL)
        XCTAssertEqual(try Signals.parse("SIGKILL"), SIGKILL)
        XCTAssertEqual(try Signals.parse("sigusr1"), SIGUSR1)
        XCTAssertEqual(try Signals.parse("9"), 9)
        XCTAssertEqual(try Signals.parse("0"), 0)
        XCTAssertThrowsError(try Signals.parse("BOGUS"))
        XCTAssertThrowsError(try Signals.parse("65"))
        XCTAssertThrowsError(try Signals.parse("-9"))
    }

    func testCleanAbsolutePaths() {
        for ok in ["/", "/a", "//a", "/a/b/", "/.hidden", "/a/...", "/a..b/c", "/sys/fs/cgroup/pids/x"] {
            XCTAssertTrue(ContainerRecord.isCleanAbsolute(ok), ok)
        }
        for bad in ["", "a", "a/b", "./a", "/.", "/..", "/./a", "/a/..", "/a/../b", "/a/./", "/a\u{0}b"] {
            XCTAssertFalse(ContainerRecord.isCleanAbsolute(bad), bad)
        }
    }

    func testContainerIDs() {
        for ok in ["a", "a.b_c+d-e", "a,b", String(repeating: "x", count: 255)] {
            XCTAssertNoThrow(try ContainerID.validate(ok), ok)
        }
        for bad in ["", ".", "..", "../x", "a/b", "a b", "a:b", "x..y", String(repeating: "x", count: 256)] {
            XCTAssertThrowsError(try ContainerID.validate(bad), bad)
        }
    }

    func testMountOptions() {
        let o = MountOptions(["nosuid", "ro", "rbind", "rslave", "mode=755", "size=64k", "rw", "rro", "rnoexec", "noatime", "sync"])
        XCTAssertTrue(o.bind && o.recursive)
        XCTAssertEqual(o.attrs.set, MountFD.nosuid | MountFD.noatime)
        XCTAssertEqual(o.attrs.clear, MountFD.rdonly | MountFD.atimeMask, "a later rw undoes ro; the atime mode replaces the field")
        XCTAssertEqual(o.recursiveAttrs, MountAttrs(set: MountFD.rdonly | MountFD.noexec))
        XCTAssertEqual(o.propagation, [UInt64(MS_SLAVE) | UInt64(MS_REC)])
        XCTAssertEqual(o.data, ["mode=755", "size=64k"])
        XCTAssertEqual(o.dataAt, [4, 5])
        XCTAssertEqual(o.superblock, ["sync"])
        XCTAssertEqual(MountOptions(["ro", "rrw"]).ownAttrs, MountAttrs(set: 0, clear: MountFD.rdonly), "the recursive form comes after")
        XCTAssertEqual(MountOptions(["norelatime"]).attrs.set, MountFD.strictatime, "not relatime is strictatime, not a no-op")
        XCTAssertEqual(MountOptions(["ridmap"]).idmap, .recursive)
        XCTAssertFalse(MountOptions.knownNames.contains("idmap"), "idmap is linux.mountExtensions.idmap")
        XCTAssertFalse(MountOptions.knownNames.contains("mand"))
        for name in ["rro", "rnosymfollow", "nosymfollow", "tmpcopyup", "defaults", "rstrictatime"] {
            XCTAssertTrue(MountOptions.knownNames.contains(name), name)
        }
    }

    func testTmpCopyUpInheritsWhatTheMountDoesNotSet() {
        let plain = TmpCopyUp.Inherit(data: ["size=4m"], directoryExisted: true)
        XCTAssertTrue(plain.mode && plain.owner, "the image's directory lends its mode and owner")
        let mode = TmpCopyUp.Inherit(data: ["size=4m", "mode=1777"], directoryExisted: true)
        XCTAssertFalse(mode.mode, "mode= wins over the directory's mode")
        XCTAssertTrue(mode.owner)
        XCTAssertFalse(TmpCopyUp.Inherit(data: ["gid=5"], directoryExisted: true).owner)
        let made = TmpCopyUp.Inherit(data: [], directoryExisted: false)
        XCTAssertFalse(made.mode || made.owner, "a mount point apus made lends nothing (tmpfs default 1777)")
    }

    func testMountOptionsTheKernelWouldIgnoreAreErrors() {
        func error(_ m: Mount) -> String? {
            do { try MountRequest(m, index: 2).check(); return nil } catch { return "\(error)" }
        }
        XCTAssertNil(error(Mount(destination: "/a", type: "bind", source: "/b", options: ["rbind", "rro", "nosymfollow", "rprivate", "idmap"])))
        XCTAssertNil(error(Mount(destination: "/t", type: "tmpfs", source: "tmpfs", options: ["size=1m", "sync", "ro", "tmpcopyup"])))
        XCTAssertEqual(error(Mount(destination: "/a", type: "none", source: "/b", options: ["rbind", "ro", "foo=bar"])),
                       #"config.json: mounts[2].options[2]: unknown mount option "foo=bar": a bind mount takes no filesystem options"#)
        XCTAssertEqual(error(Mount(destination: "/a", source: "/b", options: ["bind", "sync"])),
                       #"config.json: mounts[2].options[1]: "sync" is a filesystem option: the kernel ignores it on a bind mount"#)
        XCTAssertEqual(error(Mount(destination: "/t", type: "tmpfs", options: ["idmap"])),
                       "config.json: mounts[2].options[0]: id-mapped mounts must be bind mounts")
        XCTAssertEqual(error(Mount(destination: "/t", type: "proc", options: ["mand"])),
                       #"config.json: mounts[2].options[0]: mandatory locking was removed in Linux 5.15; the kernel ignores "mand""#)
        XCTAssertEqual(error(Mount(destination: "/c", type: "cgroup", options: ["ro", "nsdelegate"])),
                       #"config.json: mounts[2].options[1]: "nsdelegate": cgroup mounts take no filesystem options"#)
        XCTAssertEqual(error(Mount(destination: "/p", type: "proc", options: ["tmpcopyup"])),
                       "config.json: mounts[2].options[0]: tmpcopyup needs a tmpfs mount")
        var mapped = Mount(destination: "/t", type: "tmpfs")
        mapped.uidMappings = [IDMapping(containerID: 0, hostID: 1, size: 1)]
        XCTAssertEqual(error(mapped), "config.json: mounts[2].uidMappings: id-mapped mounts must be bind mounts")
        XCTAssertEqual(MountRequest(Mount(destination: "dev/"), index: 0).defersReadOnly, true, "a relative /dev is /dev")
    }

    func testKernelCheckNamesWhatIsMissing() {
        XCTAssertNoThrow(try KernelSupport.check(), "this test machine runs a recent kernel")
        XCTAssertThrowsError(try KernelSupport.check(missing: { $0 == 442 })) { error in
            XCTAssertEqual("\(error)", "this kernel (Linux \(KernelSupport.release)) lacks mount_setattr(2) (Linux 5.12): apus needs Linux 5.12 or later")
        }
    }

    func testListingAnOpenDirectoryTwiceSeesItAll() throws {
        let dir = "/tmp/apus-list-\(getpid())"
        try FS.mkdirAll(dir + "/a", mode: 0o700)
        defer { try? FS.removeTree(dir) }
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { close(fd) }
        XCTAssertEqual(try FS.listDirectory(fd: fd, path: dir), ["a"])
        XCTAssertEqual(try FS.listDirectory(fd: fd, path: dir), ["a"], "the shared offset is rewound")
    }

    func testCleanPaths() {
        XCTAssertEqual(FS.clean("dev/"), "/dev")
        XCTAssertEqual(FS.clean("//dev/./pts/../"), "/dev")
        XCTAssertEqual(FS.clean("/../.."), "/")
    }

    func testTimestampIsRFC3339NanoUTC() {
        let t = Timestamp.now()
        XCTAssertTrue(t.hasSuffix("Z"))
        XCTAssertEqual(t.count >= 20, true)
        XCTAssertFalse(t.contains(".") && t.dropLast().hasSuffix("0"), "trailing zeros are trimmed: \(t)")
    }

    /// The date arithmetic agrees with glibc's gmtime_r (leap years, century
    /// rules, month ends, before 1970 and after 2038) and trims the fraction.
    func testTimestampFormatMatchesGmtime() {
        var samples: [Int64] = [0, 59, 86399, 86400, 951_782_400, 951_868_799, 4_107_542_400, -1, -86401, 2_147_483_648]
        var x: Int64 = 12345
        for _ in 0..<2000 {
            x = (x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407) & 0x7fff_ffff_ffff
            samples.append(x % 8_000_000_000 - 1_000_000_000)
        }
        for s in samples {
            var t = time_t(s)
            var tm = tm()
            gmtime_r(&t, &tm)
            let want = pad(Int(tm.tm_year) + 1900, 4) + "-" + pad(Int(tm.tm_mon) + 1, 2) + "-" + pad(Int(tm.tm_mday), 2)
                + "T" + pad(Int(tm.tm_hour), 2) + ":" + pad(Int(tm.tm_min), 2) + ":" + pad(Int(tm.tm_sec), 2) + "Z"
            XCTAssertEqual(Timestamp.format(seconds: s, nanoseconds: 0), want, "\(s)")
        }
        XCTAssertEqual(Timestamp.format(seconds: 0, nanoseconds: 120_000_000), "1970-01-01T00:00:00.12Z")
        XCTAssertEqual(Timestamp.format(seconds: 0, nanoseconds: 1), "1970-01-01T00:00:00.000000001Z")
    }

    func testStateOutputKeyOrderMatchesRunc() {
        var r = ContainerRecord(id: "c1", bundle: "/b", rootfs: "/b/rootfs", created: "2026-01-01T00:00:00Z",
                                annotations: ["b": "two", "a": "1"])
        r.pid = 42
        let running = JSONWriter.compact(StateOutput.runcState(r, status: .running))
        XCTAssertEqual(running, #"{"ociVersion":"1.2.1","id":"c1","pid":42,"status":"running","bundle":"/b","rootfs":"/b/rootfs","created":"2026-01-01T00:00:00Z","annotations":{"a":"1","b":"two"},"owner":""}"#)
        let stopped = JSONWriter.compact(StateOutput.runcState(r, status: .stopped))
        XCTAssertTrue(stopped.contains(#""pid":0"#))
        let hook = JSONWriter.compact(StateOutput.oci(r, status: .stopped))
        XCTAssertFalse(hook.contains("pid"), "poststop state has no pid")
    }

    func testStateStoreClaimIsExclusiveAndRoundTrips() throws {
        var template = Array("/tmp/apus-unit-XXXXXX".utf8CString)
        let root = String(cString: mkdtemp(&template)!)
        defer { try? FS.removeTree(root) }
        let store = StateStore(root: root + "/state")
        let me = try XCTUnwrap(ProcStat.read(pid: getpid()))
        let intent = CreateIntent(creatorPID: getpid(), creatorStartTime: me.startTime, cgroupPaths: [:])
        var cleaned = 0
        let dir = try store.claim("c1", intent: intent) { _, _ in cleaned += 1 }
        XCTAssertEqual(dir.intent(), intent, "the intent is there from the first moment")
        // A live creator: the second claim fails without touching the first.
        XCTAssertThrowsError(try store.claim("c1", intent: intent) { _, _ in cleaned += 1 }) { error in
            guard case RuntimeError.exists = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(cleaned, 0)
        XCTAssertThrowsError(try store.open("c1"), "no state.json yet: not visible")
        // A dead creator (no pid is above pid_max): the half-made directory is cleaned and the claim wins.
        let dead = CreateIntent(creatorPID: .max, creatorStartTime: 1, cgroupPaths: [:])
        _ = try store.claim("c2", intent: dead) { _, _ in }
        let again = try store.claim("c2", intent: intent) { stale, staleIntent in
            cleaned += 1
            XCTAssertEqual(staleIntent, dead)
            try stale.remove()
        }
        XCTAssertEqual(cleaned, 1)
        XCTAssertEqual(again.intent(), intent)
        try again.remove()
        XCTAssertEqual(try FS.listDirectory(root + "/state"), ["c1"], "no staging directory left")
        var record = ContainerRecord(id: "c1", bundle: "/b", rootfs: "/b/r", created: Timestamp.now(), annotations: nil)
        record.pid = .max
        record.cgroupPaths = ["memory": "/sys/fs/cgroup/memory/c1"]
        try dir.save(record)
        XCTAssertEqual(try store.ids(), ["c1"])
        XCTAssertEqual(try store.open("c1").load(), record)
        XCTAssertEqual(record.currentStatus(dir: dir), .stopped, "no pid above pid_max is alive")
        try dir.remove()
        XCTAssertEqual(try store.ids(), [])
    }

    func testDeadClaimsAreRemovedLiveOnesKept() throws {
        var template = Array("/tmp/apus-unit-XXXXXX".utf8CString)
        let root = String(cString: mkdtemp(&template)!)
        defer { try? FS.removeTree(root) }
        let store = StateStore(root: root)
        let parent = getppid()
        let parentStart = try XCTUnwrap(ProcStat.read(pid: parent)).startTime
        // Staging directories are named after their creator: pid and start time.
        for name in [".claim-\(parent)-\(parentStart)",      // live
                     ".claim-\(parent)-\(parentStart + 1)",  // pid reused by another process
                     ".claim-999999991-5",                  // creator gone
                     ".claim-odd", "c1"] {                   // not ours to judge, not a claim
            XCTAssertEqual(mkdir(root + "/" + name, 0o711), 0)
        }
        store.removeDeadClaims()
        XCTAssertEqual(try FS.listDirectory(root).sorted(), [".claim-\(parent)-\(parentStart)", ".claim-odd", "c1"].sorted())
    }

    func testProcStatOfSelf() throws {
        let me = try XCTUnwrap(ProcStat.read(pid: getpid()))
        XCTAssertTrue(me.isAlive)
        XCTAssertGreaterThan(me.startTime, 0)
        XCTAssertNil(ProcStat.read(pid: 0))
    }

    func testHookRunsWithStateOnStdinAndTimeout() throws {
        var template = Array("/tmp/apus-unit-XXXXXX".utf8CString)
        let dir = String(cString: mkdtemp(&template)!)
        defer { try? FS.removeTree(dir) }
        let out = dir + "/out"
        try Hooks.run(Hook(path: "/bin/sh", args: ["sh", "-c", "cat > \(out); echo \"$X\" >> \(out)"], env: ["X=from-env"]),
                      input: Array("{\"id\":\"c\"}".utf8))
        XCTAssertEqual(try FS.readString(out), "{\"id\":\"c\"}from-env\n")
        XCTAssertThrowsError(try Hooks.run(Hook(path: "/bin/sh", args: ["sh", "-c", "exit 3"]), input: [])) { e in
            XCTAssertEqual("\(e)", "exit status 3")
        }
        XCTAssertThrowsError(try Hooks.run(Hook(path: "/bin/sh", args: ["sh", "-c", "exec sleep 5"], timeout: 1), input: [])) { e in
            XCTAssertTrue("\(e)".contains("timeout"))
        }
    }
}

private func pad(_ v: Int, _ width: Int) -> String {
    let s = "\(v)"
    return String(repeating: "0", count: max(0, width - s.count)) + s
}
