import ApusCLI
import XCTest

/// `events --interval` takes Go durations, as runc's flag does.
final class GoDurationTests: XCTestCase {
    func testWhatGoAccepts() {
        XCTAssertEqual(GoDuration.parse("5s"), 5_000_000_000)
        XCTAssertEqual(GoDuration.parse("300ms"), 300_000_000)
        XCTAssertEqual(GoDuration.parse("1.5s"), 1_500_000_000)
        XCTAssertEqual(GoDuration.parse(".5s"), 500_000_000)
        XCTAssertEqual(GoDuration.parse("1m30s"), 90_000_000_000)
        XCTAssertEqual(GoDuration.parse("1h"), 3_600_000_000_000)
        XCTAssertEqual(GoDuration.parse("10us"), 10_000)
        XCTAssertEqual(GoDuration.parse("10µs"), 10_000)
        XCTAssertEqual(GoDuration.parse("7ns"), 7)
        XCTAssertEqual(GoDuration.parse("0"), 0)
        XCTAssertEqual(GoDuration.parse("-2s"), -2_000_000_000)
        XCTAssertEqual(GoDuration.parse("+1s"), 1_000_000_000)
    }

    func testWhatGoRefuses() {
        for text in ["", "1", "s", "abc", "1x", "1.2.3s", "-", ".s", "5 s", "9999999999h"] {
            XCTAssertNil(GoDuration.parse(text), text)
        }
    }
}
