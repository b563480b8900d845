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

    func testContainerIDs() {
        for ok in ["a", "a.b_c+d-e", "a,b", String(repeating: "x", count: 255)] {
            XCTAssertNoThrow(try ContainerID.validate(ok), ok)
        }
        for bad in ["", ".", "..", "../x", "a/b", "a b", "a:b", "x..y", String(repeating: "x", count: 256)] {
            XCTAssertThrowsError(try ContainerID.validate(bad), bad)
        }
    }

    func testMountOptions() {
        let o = MountOptions(["nosuid", "ro", "rbind", "rslave", "mode=755", "size=64k", "rw"])
        XCTAssertEqual(o.flags & UInt(MS_RDONLY), 0, "a later rw undoes ro")
        XCTAssertNotEqual(o.flags & UInt(MS_NOSUID), 0)
        XCTAssertTrue(o.isBind)
        XCTAssertNotEqual(o.flags & UInt(MS_REC), 0)
        XCTAssertEqual(o.propagation, [UInt(MS_SLAVE) | UInt(MS_REC)])
        XCTAssertEqual(o.dataString, "mode=755,size=64k")
    }

    func testTimestampIsRFC3339NanoUTC() {
        let t = Timestamp.now()
        XCTAssertTrue(t.hasSuffix("Z"))
        XCTAssertEqual(t.count >= 20, true)
        XCTAssertFalse(t.contains(".") && t.dropLast().hasSuffix("0"), "trailing zeros are trimmed: \(t)")
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
        // A dead creator (pid 0 never lives): the half-made directory is cleaned and the claim wins.
        let dead = CreateIntent(creatorPID: 0, creatorStartTime: 1, cgroupPaths: [:])
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
        record.cgroupPaths = ["memory": "/sys/fs/cgroup/memory/c1"]
        try dir.save(record)
        XCTAssertEqual(try store.ids(), ["c1"])
        XCTAssertEqual(try store.open("c1").load(), record)
        XCTAssertEqual(record.currentStatus(dir: dir), .stopped, "pid 0 is never alive")
        try dir.remove()
        XCTAssertEqual(try store.ids(), [])
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
