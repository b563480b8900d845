@testable import ApusRuntime
import ApusSpec
import XCTest

/// The D-Bus marshalling of the systemd driver's calls, byte for byte, and
/// the reply parser against hostile input.
final class DBusTests: XCTestCase {
    func hex(_ s: String) -> [UInt8] {
        let digits = Array(s.filter { !$0.isWhitespace }.utf8)
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
    }

    func call(_ member: String, _ body: [DBusValue], serial: UInt32 = 1) -> DBusMessage {
        var m = DBusMessage.call(destination: "org.freedesktop.systemd1", path: "/org/freedesktop/systemd1",
                                 interface: "org.freedesktop.systemd1.Manager", member: member, body)
        m.serial = serial
        return m
    }

    /// The header every manager call shares, up to the member field.
    func header(bodyLength: UInt8, fieldsLength: UInt8) -> String {
        "6c 01 00 01  \(format2(bodyLength)) 00 00 00  01 00 00 00  \(format2(fieldsLength)) 00 00 00"
            + " 01 01 6f 00  19 00 00 00  2f6f72672f667265656465736b746f702f73797374656d643100  000000000000" // path, pad to 8
            + " 02 01 73 00  20 00 00 00  6f72672e667265656465736b746f702e73797374656d64312e4d616e6167657200  00000000000000"
    }

    func format2(_ b: UInt8) -> String {
        let d = Array("0123456789abcdef")
        return String([d[Int(b >> 4)], d[Int(b & 15)]])
    }

    func testGetUnitBytes() {
        let bytes = call("GetUnit", [.string("x.scope")]).encode()
        let expected = hex(header(bodyLength: 12, fieldsLength: 0x97)
            + " 03 01 73 00  07 00 00 00  476574556e697400  " // member "GetUnit" (ends on 8)
            + " 06 01 73 00  18 00 00 00  6f72672e667265656465736b746f702e73797374656d643100  00000000000000"
            + " 08 01 67 00  01 73 00 " // signature "s" (fields end 0x97 bytes past offset 16)
            + " 00" // header padding to 8
            + " 07 00 00 00  782e73636f706500")
        XCTAssertEqual(bytes.count, expected.count)
        XCTAssertEqual(bytes, expected)
        XCTAssertEqual(try DBusMessage.decode(bytes), call("GetUnit", [.string("x.scope")]))
    }

    func testStopUnitBody() throws {
        let m = call("StopUnit", [.string("a.scope"), .string("replace")])
        let bytes = m.encode()
        XCTAssertEqual(Array(bytes.suffix(24)), hex("07000000 612e73636f706500 07000000 7265706c61636500"))
        XCTAssertEqual(try DBusMessage.decode(bytes).body, m.body)
        XCTAssertEqual(m.bodySignature, "ss")
    }

    func testStartTransientUnitBody() throws {
        let props: [DBusValue] = [
            .property("PIDs", .array(element: "u", [.uint32(42)])),
            .property("Delegate", .bool(true)),
            .property("TasksMax", .uint64(10)),
        ]
        let m = call("StartTransientUnit", [.string("a.scope"), .string("replace"), .array(element: "(sv)", props),
                                            .array(element: "(sa(sv))", [])])
        XCTAssertEqual(m.bodySignature, "ssa(sv)a(sa(sv))")
        var w = DBusWriter()
        for v in m.body { w.write(v) }
        XCTAssertEqual(w.bytes, hex("""
            07000000 612e73636f706500  07000000 7265706c61636500
            48000000 00000000
            04000000 5049447300 02617500 000000 04000000 2a000000
            08000000 44656c656761746500 016200 01000000 00000000
            08000000 5461736b734d617800 017400 0a00000000000000
            00000000 00000000
            """))
        XCTAssertEqual(try DBusMessage.decode(m.encode()), m)
    }

    func testSetUnitPropertiesRoundTrip() throws {
        let m = call("SetUnitProperties", [.string("a.scope"), .bool(true), .array(element: "(sv)", [
            .property("MemoryMax", .uint64(1 << 26)),
            .property("AllowedCPUs", .array(element: "y", [.byte(5)])),
            .property("DeviceAllow", .array(element: "(ss)", [.structure([.string("char-pts"), .string("rwm")])])),
        ])], serial: 7)
        XCTAssertEqual(m.bodySignature, "sba(sv)")
        XCTAssertEqual(try DBusMessage.decode(m.encode()), m)
    }

    func reply(serial: UInt32, _ body: [DBusValue], kind: DBusMessage.Kind = .methodReturn) -> [UInt8] {
        var r = DBusMessage(kind: kind)
        r.serial = 9
        r.replySerial = serial
        if kind == .error { r.errorName = "org.freedesktop.systemd1.NoSuchUnit" }
        r.body = body
        return r.encode()
    }

    func testReplyAndErrorParse() throws {
        let ok = try DBusMessage.decode(reply(serial: 3, [.objectPath("/org/freedesktop/systemd1/job/7")]))
        XCTAssertEqual(ok.replySerial, 3)
        XCTAssertEqual(ok.body, [.objectPath("/org/freedesktop/systemd1/job/7")])
        let err = try DBusMessage.decode(reply(serial: 3, [.string("Unit x.scope not loaded.")], kind: .error))
        XCTAssertEqual(err.errorName, "org.freedesktop.systemd1.NoSuchUnit")
    }

    func testJobRemovedSignal() throws {
        var s = DBusMessage(kind: .signal)
        s.path = "/org/freedesktop/systemd1"
        s.interface = "org.freedesktop.systemd1.Manager"
        s.member = "JobRemoved"
        s.body = [.uint32(7), .objectPath("/org/freedesktop/systemd1/job/7"), .string("a.scope"), .string("done")]
        let m = try DBusMessage.decode(s.encode())
        XCTAssertTrue(SystemdCgroup.isJobRemoved(m, job: "/org/freedesktop/systemd1/job/7"))
        XCTAssertFalse(SystemdCgroup.isJobRemoved(m, job: "/org/freedesktop/systemd1/job/8"))
    }

    func testBigEndianReply() throws {
        // A big-endian method return, reply serial 1, body "u" = 5.
        let be = hex("42 02 00 01 00000004 00000002 0000000f 05 01 75 00 00000001 08 01 67 00 01 75 00 00 00000005")
        let m = try DBusMessage.decode(be)
        XCTAssertEqual(m.replySerial, 1)
        XCTAssertEqual(m.body, [.uint32(5)])
    }

    func testHostileReplies() {
        let good = reply(serial: 3, [.objectPath("/j/1"), .string("x")])
        // Every truncation is an error, never a crash.
        for n in 0..<good.count {
            XCTAssertThrowsError(try DBusMessage.decode(Array(good.prefix(n))), "prefix \(n)")
        }
        var wrongSig = good
        if let i = wrongSig.firstIndex(of: UInt8(ascii: "o")), wrongSig[i + 1] == UInt8(ascii: "s") {
            wrongSig[i] = UInt8(ascii: "u")  // body signature "us": the path's bytes no longer fit
        }
        XCTAssertThrowsError(try DBusMessage.decode(wrongSig))
        var badEndian = good
        badEndian[0] = UInt8(ascii: "x")
        XCTAssertThrowsError(try DBusMessage.decode(badEndian))
        var huge = good
        huge[4] = 0xff; huge[5] = 0xff; huge[6] = 0xff; huge[7] = 0x7f
        XCTAssertThrowsError(try DBusMessage.length(prefix: huge[...]))
        // Bit flips anywhere: an error or a message, never a trap.
        for i in 0..<good.count {
            var b = good
            b[i] ^= 0xff
            _ = try? DBusMessage.decode(b)
        }
        // Signatures nested beyond the limit, or broken.
        XCTAssertThrowsError(try DBusSignature.split(String(repeating: "a", count: 40) + "y"))
        for bad in ["(", "()", "a", "a{vs}", "{ss}", "(s", "z"] {
            XCTAssertThrowsError(try DBusSignature.split(bad), bad)
        }
        XCTAssertEqual(try DBusSignature.split("ssa(sv)a(sa(sv))"), ["s", "s", "a(sv)", "a(sa(sv))"])
        XCTAssertEqual(try DBusSignature.split("a{sv}u"), ["a{sv}", "u"])
    }

    func testAuthLine() {
        XCTAssertEqual(DBusConnection.authLine(uid: 0), "AUTH EXTERNAL 30\r\n")
        XCTAssertEqual(DBusConnection.authLine(uid: 1000), "AUTH EXTERNAL 31303030\r\n")
    }
}

final class SystemdDriverTests: XCTestCase {
    func testUnitFromCgroupsPath() throws {
        XCTAssertEqual(try SystemdCgroup.unit(cgroupsPath: "system.slice:docker:abc", id: "x"),
                       SystemdCgroup.Unit(slice: "system.slice", name: "docker-abc.scope", cgroup: "/system.slice/docker-abc.scope"))
        XCTAssertEqual(try SystemdCgroup.unit(cgroupsPath: nil, id: "c1").name, "runc-c1.scope")
        XCTAssertEqual(try SystemdCgroup.unit(cgroupsPath: nil, id: "c1").cgroup, "/system.slice/runc-c1.scope")
        XCTAssertEqual(try SystemdCgroup.unit(cgroupsPath: ":p:n", id: "c1").cgroup, "/system.slice/p-n.scope")
        XCTAssertEqual(try SystemdCgroup.unit(cgroupsPath: "a-b.slice::n", id: "c1").cgroup, "/a.slice/a-b.slice/n.scope")
        XCTAssertEqual(try SystemdCgroup.unit(cgroupsPath: "kubepods-burstable-pod1.slice:cri-containerd:id", id: "x").cgroup,
                       "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-id.scope")
        for bad in ["/abs/path", "a:b", "a:b:c:d", "nota:p:n", "a--b.slice:p:n", "-a.slice:p:n", "a.slice:p:n/x"] {
            XCTAssertThrowsError(try SystemdCgroup.unit(cgroupsPath: bad, id: "c"), bad)
        }
        XCTAssertEqual(try SystemdCgroup.expandSlice("-.slice"), "/")
    }

    let none: SystemdProperties.DeviceNames = { _, _ in nil }

    func names(_ ps: [DBusValue]) -> [String: DBusValue] {
        var out: [String: DBusValue] = [:]
        for p in ps { if case .structure(let f) = p, case .variant(let v) = f[1], let k = f[0].string { out[k] = v } }
        return out
    }

    func testResourcesLegacyAndUnified() throws {
        var r = Resources()
        r.memory = MemoryResources()
        r.memory?.limit = 64 << 20
        r.memory?.reservation = 32 << 20
        r.memory?.swap = 96 << 20
        r.cpu = CPUResources()
        r.cpu?.shares = 512
        r.cpu?.quota = 33_500
        r.cpu?.period = 100_000
        r.cpu?.cpus = "0-1,9"
        r.pids = PidsResources(limit: 20)
        let legacy = names(try SystemdProperties.resources(r, devices: nil, mode: .legacy, deviceNames: none))
        XCTAssertEqual(legacy["MemoryLimit"], .uint64(64 << 20))
        XCTAssertEqual(legacy["CPUShares"], .uint64(512))
        XCTAssertEqual(legacy["CPUQuotaPerSecUSec"], .uint64(340_000))  // rounded up to whole percent
        XCTAssertEqual(legacy["CPUQuotaPeriodUSec"], .uint64(100_000))
        XCTAssertEqual(legacy["TasksMax"], .uint64(20))
        XCTAssertEqual(legacy["AllowedCPUs"], .array(element: "y", [.byte(3), .byte(2)]))
        XCTAssertNil(legacy["MemoryMax"])
        let unified = names(try SystemdProperties.resources(r, devices: nil, mode: .unified, deviceNames: none))
        XCTAssertEqual(unified["MemoryMax"], .uint64(64 << 20))
        XCTAssertEqual(unified["MemoryLow"], .uint64(32 << 20))
        XCTAssertEqual(unified["MemorySwapMax"], .uint64(32 << 20))
        XCTAssertEqual(unified["CPUWeight"], .uint64(20))
        r.pids = PidsResources(limit: -1)
        r.memory?.limit = -1
        let unlimited = names(try SystemdProperties.resources(r, devices: nil, mode: .unified, deviceNames: none))
        XCTAssertEqual(unlimited["TasksMax"], .uint64(.max))
        XCTAssertEqual(unlimited["MemoryMax"], .uint64(.max))
    }

    func testDevices() throws {
        let denyAll = DeviceCgroupRule(allow: false, access: "rwm")
        let allowFuse = DeviceCgroupRule(allow: true, type: "c", major: 10, minor: 229, access: "rw")
        let ps = names(try SystemdProperties.devices([denyAll, allowFuse], devices: nil) { t, m in t == "c" && m == 136 ? "pts" : nil })
        XCTAssertEqual(ps["DevicePolicy"], .string("strict"))
        guard case .array(_, let entries)? = ps["DeviceAllow"] else { return XCTFail("no DeviceAllow") }
        XCTAssertTrue(entries.contains(.structure([.string("/dev/char/10:229"), .string("rw")])))
        XCTAssertTrue(entries.contains(.structure([.string("char-pts"), .string("rwm")])))
        XCTAssertTrue(entries.contains(.structure([.string("char-*"), .string("m")])))
        XCTAssertThrowsError(try SystemdProperties.devices([allowFuse], devices: nil, deviceNames: none))
        XCTAssertEqual(try SystemdProperties.devices([], devices: nil, deviceNames: none), [])
    }

    func testDeviceNames() {
        let n = SystemdProperties.parseDeviceNames("Character devices:\n  1 mem\n136 pts\n\nBlock devices:\n  7 loop\n")
        XCTAssertEqual(n["c 136"], "pts")
        XCTAssertEqual(n["b 7"], "loop")
    }
}
