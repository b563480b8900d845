import ApusSpec
import Foundation
import XCTest

/// `apus spec` output is pinned by spec-fixtures/valid/apus-spec*.json
/// (as root: host ids 0), byte for byte: runc's tab-indented layout.
final class DefaultSpecTests: XCTestCase {
    func testExampleMatchesFixture() throws {
        for (rootless, name) in [(false, "apus-spec.json"), (true, "apus-spec-rootless.json")] {
            let url = fixturesURL.appendingPathComponent("valid").appendingPathComponent(name)
            let expected = try String(contentsOf: url, encoding: .utf8)
            let actual = JSONWriter.indented(Spec.example(rootless: rootless).json, indent: "\t")
            XCTAssertEqual(actual, expected, name)
        }
    }

    func testExampleIsValid() {
        XCTAssertEqual(Spec.example(rootless: false).validate(), [])
        XCTAssertEqual(Spec.example(rootless: true, uid: 1000, gid: 1000).validate(), [])
    }
}
