@testable import ApusRuntime
import ApusSpec
import Foundation
import XCTest

/// A container's directory holds intent.json (the intent and the config)
/// and, once created, state.json: no other file per container. Directories
/// an apus before 2026-12-05 made (config.json beside an intent without
/// one) are still read and updated in their own format.
final class StateDirectoryTests: XCTestCase {
    private var root = ""

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "apus-statedir-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: root)
    }

    private func spec(_ hostname: String) throws -> Spec {
        try Spec.decode(Array(#"{"ociVersion": "1.2.1", "root": {"path": "rootfs"}, "hostname": "\#(hostname)"}"#.utf8))
    }

    private func claim(_ id: String) throws -> ContainerDir {
        let intent = CreateIntent(creatorPID: getpid(), creatorStartTime: 1, cgroupPaths: ["pids": "/sys/fs/cgroup/pids/x"])
        return try StateStore(root: root).claim(id, intent: intent, config: try spec("made").json) { _, _ in }
    }

    func testOneFileHoldsIntentAndConfig() throws {
        let dir = try claim("c1")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["intent.json"])
        XCTAssertEqual(dir.intent()?.cgroupPaths, ["pids": "/sys/fs/cgroup/pids/x"])
        XCTAssertEqual(try dir.savedConfig().hostname, "made")

        try dir.replaceConfig(try spec("updated").json)
        XCTAssertEqual(try dir.savedConfig().hostname, "updated")
        XCTAssertEqual(dir.intent()?.cgroupPaths, ["pids": "/sys/fs/cgroup/pids/x"], "the intent stays")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["intent.json"])

        var intent = try XCTUnwrap(dir.intent())
        intent.initPID = 42
        try dir.saveIntent(intent, config: try spec("updated").json)
        XCTAssertEqual(dir.intent()?.initPID, 42)
        XCTAssertEqual(try dir.savedConfig().hostname, "updated", "the config stays")
    }

    func testAnEarlierApussDirectoryIsReadAndUpdatedInItsFormat() throws {
        let dir = try claim("c2")
        var tree = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: dir.intentPath))))
        guard case .object(var o) = tree else { return XCTFail("intent.json is no object") }
        o["config"] = nil
        tree = .object(o)
        try FS.writeAtomically(dir.intentPath, Array(JSONWriter.compact(tree).utf8))
        try FS.writeAtomically(dir.path + "/config.json", Array(JSONWriter.compact(try spec("legacy").json).utf8))

        XCTAssertEqual(try dir.savedConfig().hostname, "legacy")
        try dir.replaceConfig(try spec("legacy-updated").json)
        XCTAssertEqual(try dir.savedConfig().hostname, "legacy-updated")
        XCTAssertNil(try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: dir.intentPath))))["config"],
                     "still the old format")
    }

    func testABrokenConfigIsAnErrorNamingTheFile() throws {
        let dir = try claim("c3")
        try FS.writeAtomically(dir.intentPath, Array(#"{"creatorPID": 1, "creatorStartTime": 1, "config": {"ociVersion": 3}}"#.utf8))
        XCTAssertThrowsError(try dir.savedConfig()) {
            XCTAssertTrue("\($0)".hasPrefix(dir.intentPath + ": config.ociVersion: "), "\($0)")
        }
    }
}
