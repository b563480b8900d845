import ApusSpec
import Foundation
import XCTest

/// Hostile or broken config.json files must give one clear error, never a crash or a hang.
final class BadInputTests: XCTestCase {
    func testNotJSON() {
        XCTAssertEqual(loadError(""), "config.json: empty document")
        XCTAssertEqual(loadError(" \n\t "), "config.json: empty document")
        let garbage = loadError("ociVersion = 1.2.0")
        XCTAssertTrue(garbage?.hasPrefix("config.json: invalid JSON at line ") == true, garbage ?? "nil")
        XCTAssertEqual(loadError("42"), "config.json: expected object, got number")
        XCTAssertEqual(loadError(#""string""#), "config.json: expected object, got string")
    }

    /// Every proper prefix of a valid config is an error, whatever the cut.
    func testEveryTruncationIsAnError() throws {
        let full = Array(try Data(contentsOf: fixturesURL.appendingPathComponent("valid/kitchen-sink.json")))
        XCTAssertNil(loadError(full))
        var last = full.count - 1
        while last > 0, full[last] == 0x0a || full[last] == 0x20 { last -= 1 } // keep the closing brace
        for n in 0...last {
            let error = loadError(Array(full[..<n]))
            XCTAssertNotNil(error, "prefix of \(n) bytes")
            XCTAssertFalse(error?.contains("\n") ?? false, "prefix of \(n) bytes: multi-line error")
        }
    }

    func testInvalidUTF8() {
        for raw: [UInt8] in [
            Array(#"{"ociVersion": "1.2.0", "hostname": "a"#.utf8) + [0xff] + Array(#""}"#.utf8),
            Array(#"{"ociVersion": "1.2.0", "annotations": {"k"#.utf8) + [0xc3, 0x28] + Array(#"": "v"}}"#.utf8),
            Array(#"{"ociVersion": "1.2.0", "hostname": ""#.utf8) + [0xed, 0xa0, 0x80] + Array(#""}"#.utf8), // surrogate
            Array(#"{"ociVersion": "1.2.0", "hostname": ""#.utf8) + [0xc0, 0x80] + Array(#""}"#.utf8), // overlong NUL
            Array(#"{"ociVersion": "1.2.0", "hostname": ""#.utf8) + [0xf4, 0x90, 0x80, 0x80] + Array(#""}"#.utf8), // > U+10FFFF
        ] {
            let error = loadError(raw) ?? "nil"
            XCTAssertTrue(error.hasPrefix("config.json: invalid JSON at line "), error)
            XCTAssertTrue(error.hasSuffix(": invalid UTF-8 in a string"), error)
        }
    }

    func testDeepNestingIsCapped() {
        for (open, close) in [("[", "]"), (#"{"a":"#, "}")] {
            let depth = 100_000
            let text = #"{"ociVersion": "1.2.0", "annotations": "# + String(repeating: open, count: depth)
                + "1" + String(repeating: close, count: depth) + "}"
            XCTAssertEqual(loadError(text), "config.json: nesting deeper than 512 levels")
        }
        // 512 levels is still fine for the parser (the config model rejects it later).
        let ok = String(repeating: "[", count: 511) + String(repeating: "]", count: 511)
        XCTAssertNoThrow(try JSONParser.parse(bytes(ok)))
        let tooDeep = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        XCTAssertThrowsError(try JSONParser.parse(bytes(tooDeep)))
    }

    func testSizeCap() throws {
        XCTAssertEqual(ConfigLoader.maxConfigSize, 16 << 20)
        let huge = [UInt8](repeating: 0x20, count: 64 << 20)
        XCTAssertEqual(loadError(huge), "config.json: file is larger than 16 MiB")

        let dir = try temporaryDirectory()
        let path = dir.appendingPathComponent("config.json").path
        // A sparse 64 MiB file: the size check must not need to read it.
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: 64 << 20)
        try handle.close()
        XCTAssertThrowsError(try ConfigLoader.load(path: path)) {
            XCTAssertEqual("\($0)", "config.json: file is larger than 16 MiB")
        }
    }

    /// Only a regular file is read: a device never ends, and a FIFO with no
    /// writer must not block (it is opened non-blocking to find out).
    func testOnlyRegularFiles() throws {
        XCTAssertThrowsError(try ConfigLoader.load(path: "/dev/zero")) {
            XCTAssertEqual("\($0)", "config.json: \"/dev/zero\" is not a regular file")
        }
        let dir = try temporaryDirectory()
        let fifo = dir.appendingPathComponent("process.json").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        XCTAssertThrowsError(try ConfigLoader.readDocument(fifo, file: "process.json")) {
            XCTAssertEqual("\($0)", "process.json: \"\(fifo)\" is not a regular file")
        }
        let link = dir.appendingPathComponent("config.json").path
        XCTAssertEqual(symlink("/dev/null", link), 0)
        XCTAssertThrowsError(try ConfigLoader.load(path: link)) {
            XCTAssertEqual("\($0)", "config.json: \"\(link)\" is not a regular file")
        }
    }

    func testLoadFromDisk() throws {
        let dir = try temporaryDirectory()
        let path = dir.appendingPathComponent("config.json").path
        try Data(minimalConfig.utf8).write(to: URL(fileURLWithPath: path))
        let spec = try ConfigLoader.load(path: path)
        XCTAssertEqual(spec.process?.args, ["sh"])

        try Data(#"{"ociVersion": "1.2.0"}"#.utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try ConfigLoader.load(path: path)) {
            XCTAssertEqual("\($0)", "config.json: root: required property is missing")
        }
        XCTAssertThrowsError(try ConfigLoader.load(path: dir.path + "/missing.json")) {
            XCTAssertEqual("\($0)", "config.json: cannot open \"\(dir.path)/missing.json\": no such file or directory")
        }
        XCTAssertThrowsError(try ConfigLoader.load(path: dir.path)) {
            XCTAssertEqual("\($0)", "config.json: \"\(dir.path)\" is a directory")
        }
    }

    func testNumbersOutOfRange() {
        let cases: [(String, String)] = [
            ("1e400", "expected integer, got 1e400"),
            ("-1", "-1 is out of range (0...4294967295)"),
            ("123456789012345678901234567890", "123456789012345678901234567890 is out of range (0...4294967295)"),
            ("-0.0", "expected integer, got -0.0"),
            ("-0", "-0 is out of range (0...4294967295)"), // as Go's decoder: no sign on an unsigned field
            ("1099511627776", "1099511627776 is out of range (0...4294967295)"), // 2^40
        ]
        for (number, message) in cases {
            let text = withJSON { _ in }.replacingOccurrences(of: #""uid":0"#, with: #""uid":\#(number)"#)
            XCTAssertEqual(loadError(text), "config.json: process.user.uid: \(message)", number)
        }
    }

    /// spec-fixtures/hostile/process-*.json: exec's process.json, decoded and
    /// validated; with a NAME.error beside it, that exact error, else none.
    /// (state-* and intent-* are ApusRuntimeTests' HostileStateTests.)
    func testHostileProcessFiles() throws {
        let dir = fixturesURL.appendingPathComponent("hostile")
        let cases = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { $0.hasPrefix("process-") && $0.hasSuffix(".json") }.sorted()
        XCTAssertGreaterThanOrEqual(cases.count, 4)
        for name in cases {
            let json = dir.appendingPathComponent(name)
            let expected = try? String(contentsOf: json.deletingPathExtension().appendingPathExtension("error"), encoding: .utf8)
            var actual: String?
            do {
                let p = try Process.decode(Array(try Data(contentsOf: json)), file: "process.json")
                actual = p.validate(file: "process.json").first?.description
            } catch {
                actual = "\(error)"
            }
            XCTAssertEqual(actual, expected?.trimmingCharacters(in: .newlines), name)
        }
    }

    /// Deterministic byte mutations of a rich config: any outcome but a crash is fine.
    func testMutationsNeverCrash() throws {
        let original = Array(try Data(contentsOf: fixturesURL.appendingPathComponent("valid/kitchen-sink.json")))
        var rng = SplitMix(seed: 0xA9_05)
        let interesting: [UInt8] = Array(#"{}[]",:0123456789-.eE \"tfn"#.utf8) + [0x00, 0x80, 0xff]
        for _ in 0..<2000 {
            var data = original
            for _ in 0..<Int(rng.next() % 4 + 1) {
                let at = Int(rng.next() % UInt64(data.count))
                switch rng.next() % 3 {
                case 0: data[at] = interesting[Int(rng.next() % UInt64(interesting.count))]
                case 1: data.remove(at: at)
                default: data.insert(interesting[Int(rng.next() % UInt64(interesting.count))], at: at)
                }
            }
            if let spec = try? Spec.decode(data) {
                _ = spec.validate()
                _ = spec.warnings()
                _ = JSONWriter.indented(spec.json)
            }
        }
    }

    /// A large but legal file parses in linear time (no quadratic copying).
    func testLargeArrayParsesQuickly() throws {
        let count = 1_000_000
        var text = #"{"ociVersion": "1.2.0", "root": {"path": "r"}, "process": {"user": {"uid": 0, "gid": 0}, "cwd": "/", "args": ["#
        text += Array(repeating: #""x""#, count: count).joined(separator: ",")
        text += "]}}"
        let start = Date()
        let spec = try ConfigLoader.decodeAndValidate(bytes: bytes(text))
        XCTAssertEqual(spec.process?.args?.count, count)
        XCTAssertLessThan(Date().timeIntervalSince(start), 30)
    }

    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("apus-spec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}

/// A tiny seeded generator so the mutation test is reproducible.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
