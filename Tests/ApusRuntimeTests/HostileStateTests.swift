import ApusRuntime
import ApusSpec
import Foundation
import XCTest

/// spec-fixtures/hostile/state-*.json and intent-*.json: what apus keeps in
/// a container's directory, decoded as later commands decode it. With a
/// NAME.error beside it, that exact error; else it must decode.
final class HostileStateTests: XCTestCase {
    private let dir = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("spec-fixtures/hostile")

    private func check(prefix: String, decode: ([UInt8]) throws -> Void) throws {
        let cases = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }.sorted()
        XCTAssertGreaterThanOrEqual(cases.count, 2, prefix)
        for name in cases {
            let json = dir.appendingPathComponent(name)
            let expected = try? String(contentsOf: json.deletingPathExtension().appendingPathExtension("error"), encoding: .utf8)
            var actual: String?
            do { try decode(Array(try Data(contentsOf: json))) } catch { actual = "\(error)" }
            XCTAssertEqual(actual, expected?.trimmingCharacters(in: .newlines), name)
        }
    }

    func testStateFiles() throws {
        try check(prefix: "state-") { _ = try ContainerRecord.decode($0, file: "state.json") }
    }

    func testIntentFiles() throws {
        try check(prefix: "intent-") { _ = try CreateIntent.decode($0, file: "intent.json") }
    }

    /// A cgroupsPath of "/" is every hierarchy's root; "." would be apus's own cgroup.
    func testCgroupsPathNamingARootIsRefused() {
        for path in ["/", "//", "/./", ".", "a/./b", "a/../b"] {
            XCTAssertThrowsError(try Cgroups.paths(cgroupsPath: path, id: "c1"), path) {
                XCTAssertTrue("\($0)".hasPrefix("config.json: linux.cgroupsPath: "), "\($0)")
            }
        }
    }
}
