@testable import ApusSpec
import XCTest

/// linux.resources.devices access strings and numbers: as lenient as runc
/// where runc accepts them, errors with the JSON path otherwise.
final class DeviceRuleValidationTests: XCTestCase {
    func testAccessLettersBeyondRWMAreIgnoredWithAWarning() throws {
        let spec = try XCTUnwrap(decodeSpec(withJSON { c in
            c[path: ["linux", "resources"]] = ["devices": [["allow": false, "access": "rwm"],
                                                           ["allow": true, "type": "c", "major": 10, "minor": 237, "access": "rwa"]]]
        }))
        XCTAssertEqual(spec.validate(), [])
        XCTAssertEqual(spec.warnings().map(\.description), [
            #"config.json: linux.resources.devices[1].access: only r, w and m count in "rwa"; the other letters are ignored, as runc does"#,
        ])
    }

    func testAccessWithoutRWMAndNumbersOutOfRangeAreErrors() {
        let text = withJSON { c in
            c[path: ["linux", "resources"]] = ["devices": [["allow": true, "type": "c", "major": -1, "minor": 4_294_967_295, "access": "x"],
                                                           ["allow": true, "type": "b", "major": -2, "minor": 4_294_967_296, "access": "r"]]]
        }
        XCTAssertEqual(validationErrors(text), [
            #"config.json: linux.resources.devices[0].access: invalid access "x" (want a combination of r, w and m)"#,
            "config.json: linux.resources.devices[1].major: -2 is out of range (-1 for any, or 0...4294967295)",
            "config.json: linux.resources.devices[1].minor: 4294967296 is out of range (-1 for any, or 0...4294967295)",
        ])
    }
}
