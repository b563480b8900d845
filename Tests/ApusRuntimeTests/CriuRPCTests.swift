@testable import ApusRuntime
import Foundation
import XCTest

final class CriuRPCTests: XCTestCase {
    func testVarintsAndNegativeInt32() {
        var w = ProtoWriter()
        w.varint(300)
        XCTAssertEqual(w.bytes, [0xac, 0x02])
        var n = ProtoWriter()
        n.int32(1, -1)
        // Sign-extended to ten bytes, as protobuf encodes a negative int32.
        XCTAssertEqual(n.bytes, [0x08] + [UInt8](repeating: 0xff, count: 9) + [0x01])
        XCTAssertEqual(try ProtoMessage(n.bytes).int32(1), -1)
    }

    func testDumpRequestEncoding() throws {
        var o = CriuOptions()
        o.imagesDirFD = 5
        o.pid = 42
        o.leaveRunning = true
        o.logFile = "dump.log"
        o.externalMounts = [(key: "/data", value: "/data")]
        let req = try ProtoMessage(CriuRequest(type: .dump, options: o).bytes)
        XCTAssertEqual(req.int32(1), 1)
        let opts = try XCTUnwrap(req.message(2))
        XCTAssertEqual(opts.int32(1), 5)
        XCTAssertEqual(opts.int32(2), 42)
        XCTAssertEqual(opts.bool(3), true)
        XCTAssertEqual(opts.string(10), "dump.log")
        let ext = try XCTUnwrap(opts.message(23))
        XCTAssertEqual(ext.string(1), "/data")
        XCTAssertEqual(ext.string(2), "/data")
        XCTAssertNil(opts.number(4), "unset options are not sent")
    }

    /// A criu_resp of `type` with `fill`'s extra fields.
    func response(_ type: CriuRequestType, success: Bool, _ fill: (inout ProtoWriter) -> Void) throws -> CriuResponse {
        var w = ProtoWriter()
        w.int32(1, type.rawValue)
        w.bool(2, success)
        fill(&w)
        return try CriuResponse(w.bytes)
    }

    func testResponses() throws {
        let ok = try response(.restore, success: true) { $0.nested(4) { $0.int32(1, 1234) } }
        XCTAssertTrue(ok.success)
        XCTAssertEqual(ok.restoredPID, 1234)
        let note = try response(.notify, success: true) { $0.nested(5) { $0.string(1, "post-restore"); $0.int32(2, 77) } }
        XCTAssertEqual(note.notifyScript, "post-restore")
        XCTAssertEqual(note.notifyPID, 77)
        let failed = try response(.dump, success: false) { $0.int32(7, 13); $0.string(9, "no space") }
        XCTAssertFalse(failed.success)
        XCTAssertEqual(failed.crErrno, 13)
        XCTAssertEqual(failed.crErrmsg, "no space")
        let features = try response(.featureCheck, success: true) { $0.nested(8) { $0.bool(1, false); $0.bool(2, true) } }
        XCTAssertEqual(features.features?.memTrack, false)
        XCTAssertEqual(features.features?.lazyPages, true)
    }

    func testFeatureCheckRequest() throws {
        let req = try ProtoMessage(CriuRequest(type: .featureCheck, options: nil, features: CriuFeatures(lazyPages: true)).bytes)
        XCTAssertEqual(req.int32(1), 9)
        let f = try XCTUnwrap(req.message(5))
        XCTAssertNil(f.number(1))
        XCTAssertEqual(f.bool(2), true)
    }

    func testLSMOptionsAreSentAsGivenAndOnlyWhenSet() throws {
        var o = CriuOptions()
        o.configFile = "/etc/criu/runc.conf"
        o.lsmProfile = "apparmor:apus-test"
        o.lsmMountContext = "system_u:object_r:container_file_t:s0:c1,c2"
        let opts = try XCTUnwrap(ProtoMessage(CriuRequest(type: .restore, options: o).bytes).message(2))
        XCTAssertEqual(opts.string(51), "/etc/criu/runc.conf")
        XCTAssertEqual(opts.string(53), "apparmor:apus-test")
        XCTAssertEqual(opts.string(63), "system_u:object_r:container_file_t:s0:c1,c2")
        let none = try XCTUnwrap(ProtoMessage(CriuRequest(type: .restore, options: CriuOptions()).bytes).message(2))
        XCTAssertNil(none.string(53))
        XCTAssertNil(none.string(63))
    }

    func testVersionAnswer() throws {
        let v = try response(.version, success: true) { $0.nested(10) { $0.int32(1, 3); $0.int32(2, 16); $0.int32(4, 1) } }
        XCTAssertEqual(v.version?.major, 3)
        XCTAssertEqual(v.version?.minor, 16)
        XCTAssertEqual(v.version?.sublevel, 1)
        XCTAssertEqual(try ProtoMessage(CriuRequest(type: .version, options: nil).bytes).int32(1), 10)
    }

    func testLSMMountContextWithoutSELinuxIsRefusedBeforeCRIU() {
        let criu = "/nonexistent/criu"
        let bare = LSM(apparmor: false, selinux: false)
        XCTAssertThrowsError(try CriuPlan.checkLSM(profile: nil, mountContext: "ctx", host: bare, criu: criu)) {
            XCTAssertTrue("\($0)".hasPrefix("--lsm-mount-context: selinux is disabled or not supported"), "\($0)")
        }
        // Nothing given: CRIU is not asked.
        XCTAssertNoThrow(try CriuPlan.checkLSM(profile: nil, mountContext: nil, host: bare, criu: criu))
        // A profile (and a mount context with SELinux) asks CRIU's version first.
        XCTAssertThrowsError(try CriuPlan.checkLSM(profile: "apparmor:x", mountContext: nil, host: bare, criu: criu)) {
            XCTAssertTrue("\($0)".hasPrefix("starting criu (\(criu))"), "\($0)")
        }
        XCTAssertThrowsError(try CriuPlan.checkLSM(profile: nil, mountContext: "ctx", host: LSM(apparmor: false, selinux: true), criu: criu)) {
            XCTAssertTrue("\($0)".hasPrefix("starting criu (\(criu))"), "\($0)")
        }
    }

    /// A mountpoints-N.img: the two magics (the first optional), then size-prefixed mnt_entry messages.
    func mountImage(_ options: [String], commonMagic: Bool = true) -> [UInt8] {
        func le(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) } }
        var out = (commonMagic ? le(0x5456_4319) : []) + le(0x5556_3928)
        for o in options {
            var w = ProtoWriter()
            w.int32(1, 1)
            w.string(9, o)
            out += le(UInt32(w.bytes.count)) + w.bytes
        }
        return out
    }

    func testMountImageOptions() throws {
        let opts = ["rw,size=65536k,mode=755", "context=\"system_u:object_r:container_file_t:s0:c1,c2\",inode64"]
        XCTAssertEqual(CriuPlan.mountOptions(image: mountImage(opts)), opts)
        XCTAssertEqual(CriuPlan.mountOptions(image: mountImage(opts, commonMagic: false)), opts)
        XCTAssertEqual(CriuPlan.mountOptions(image: mountImage([])), [])
        XCTAssertNil(CriuPlan.mountOptions(image: Array(mountImage(opts).dropLast())), "a cut entry")
        XCTAssertNil(CriuPlan.mountOptions(image: [0x19, 0x43, 0x56, 0x54, 1, 2, 3, 4]), "another image's magic")

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("apus-mnt-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let images = try CriuDirs.open(dir, create: false)
        defer { close(images.fd) }
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/mountpoints-13.img", contents: Data(mountImage(["rw", "size=4k"]))))
        XCTAssertThrowsError(try CriuPlan.checkMountContext(images)) {
            XCTAssertTrue("\($0)".hasPrefix("--lsm-mount-context: no mount in the checkpoint"), "\($0)")
        }
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/mountpoints-14.img", contents: Data(mountImage([opts[1]]))))
        XCTAssertNoThrow(try CriuPlan.checkMountContext(images))
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/mountpoints-15.img", contents: Data([1, 2, 3])))
        XCTAssertThrowsError(try CriuPlan.checkMountContext(images)) { XCTAssertTrue("\($0)".hasSuffix("not a CRIU mount image"), "\($0)") }
    }

    func testRestoreMountPointsLeaveWhatIsUnderATmpfs() {
        let tmpfs = ["/dev", "/run"]
        XCTAssertTrue(RestoreMountPoints.under("/dev/pts", tmpfs))
        XCTAssertTrue(RestoreMountPoints.under("/run/a/b/", tmpfs))
        // The tmpfs's own mount point, and a sibling sharing the prefix, are made.
        XCTAssertFalse(RestoreMountPoints.under("/dev", tmpfs))
        XCTAssertFalse(RestoreMountPoints.under("/devices", tmpfs))
        XCTAssertFalse(RestoreMountPoints.under("/test/for/nested", tmpfs))
        XCTAssertTrue(RestoreMountPoints.under("/anything", ["/"]))
    }

    func testMalformedInputIsAnErrorNotATrap() {
        for bad: [UInt8] in [[0x08], [0x0a, 0x05, 0x01], [0x00, 0x01], [0x0b], [0x08] + [UInt8](repeating: 0xff, count: 11)] {
            XCTAssertThrowsError(try ProtoMessage(bad), "\(bad)")
        }
        // A response without its required fields.
        XCTAssertThrowsError(try CriuResponse([0x08, 0x01]))
    }
}
