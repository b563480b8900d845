@testable import ApusRuntime
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
