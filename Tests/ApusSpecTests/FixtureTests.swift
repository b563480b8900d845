import ApusSpec
import Foundation
import XCTest

/// spec-fixtures/, found from this file's location in the repository.
let fixturesURL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent() // ApusSpecTests
    .deletingLastPathComponent() // Tests
    .deletingLastPathComponent() // repository root
    .appendingPathComponent("spec-fixtures")

/// Runs every case in spec-fixtures/: see spec-fixtures/README.md.
final class FixtureTests: XCTestCase {
    private func files(_ folder: String, _ ext: String) throws -> [URL] {
        let dir = fixturesURL.appendingPathComponent(folder)
        return try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == ext }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    func testInvalidFixturesGiveTheirExactError() throws {
        let cases = try files("invalid", "json")
        XCTAssertGreaterThanOrEqual(cases.count, 55)
        for json in cases {
            let name = json.deletingPathExtension().lastPathComponent
            let errorFile = json.deletingPathExtension().appendingPathExtension("error")
            guard let expected = try? String(contentsOf: errorFile, encoding: .utf8) else {
                XCTFail("\(name): missing \(errorFile.lastPathComponent)")
                continue
            }
            let actual = loadError(Array(try Data(contentsOf: json)))
            XCTAssertEqual(actual, expected.trimmingCharacters(in: .newlines), name)
        }
        // An .error without its .json is a case that silently stopped running.
        for error in try files("invalid", "error") {
            let json = error.deletingPathExtension().appendingPathExtension("json")
            XCTAssertTrue(FileManager.default.fileExists(atPath: json.path), "\(error.lastPathComponent) has no .json")
        }
    }

    func testValidFixturesDecodeValidateAndRoundTrip() throws {
        let cases = try files("valid", "json")
        XCTAssertFalse(cases.isEmpty)
        for url in cases {
            let name = url.lastPathComponent
            let data = Array(try Data(contentsOf: url))
            let original: JSONValue
            let spec: Spec
            do {
                original = try JSONParser.parse(data)
                spec = try Spec.decode(data)
            } catch {
                XCTFail("\(name): \(error)")
                continue
            }
            XCTAssertEqual(spec.validate().map(\.description), [], name)
            if let diff = firstDifference(canonical(original), canonical(spec.json)) {
                XCTFail("\(name): not round-tripped: \(diff)")
            }
            // Encoding is stable: decoding our own output gives the same value.
            XCTAssertEqual(try Spec.decode(Array(JSONWriter.indented(spec.json).utf8)), spec, name)
        }
    }
}
