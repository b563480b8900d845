import ApusSpec
@testable import ApusRuntime
import XCTest

/// Device rules: the state they leave a devices cgroup in (v1 semantics,
/// runc's emulator), the lines written to get there, and the eBPF program.
final class DeviceRulesTests: XCTestCase {
    typealias I = BPFInstruction

    func rule(_ allow: Bool, _ type: String? = nil, _ major: Int64? = nil, _ minor: Int64? = nil, _ access: String? = "rwm") -> DeviceCgroupRule {
        DeviceCgroupRule(allow: allow, type: type, major: major, minor: minor, access: access)
    }

    func lines(_ rules: [DeviceRule]) -> [String] { rules.map { ($0.allow ? "allow " : "deny ") + $0.line } }

    let defaultLines = ["allow b *:* m", "allow c *:* m", "allow c 1:3 rwm", "allow c 1:5 rwm", "allow c 1:7 rwm",
                        "allow c 1:8 rwm", "allow c 1:9 rwm", "allow c 5:0 rwm", "allow c 5:2 rwm",
                        "allow c 10:200 rwm", "allow c 136:* rwm"]

    // MARK: v1: what is written

    func testNewCgroupIsResetToDenyAllThenGetsTheRulesAndDefaults() throws {
        let target = try DeviceRules.target([rule(false), rule(true, "c", 10, 237, "rw")])
        let written = DeviceState(defaultAllow: true).transition(to: target)
        // in the rules' order (the spec's "listed order"; runc sorts them)
        XCTAssertEqual(lines(written), ["deny a *:* rwm", "allow c 10:237 rw"] + lines(DeviceRules.defaults))
    }

    func testGainedAccessIsWrittenInTheRulesOrder() throws {
        let target = try DeviceRules.target([rule(false), rule(true, "c", 10, 229, "rwm"), rule(true, "b", 8, 20, "rw"),
                                             rule(true, "b", 10, 200, "r")])
        XCTAssertEqual(Array(lines(DeviceState(defaultAllow: true).transition(to: target)).prefix(4)),
                       ["deny a *:* rwm", "allow c 10:229 rwm", "allow b 8:20 rw", "allow b 10:200 r"])
        // a device denied again and allowed later goes where it is allowed
        let again = try DeviceRules.target([rule(false), rule(true, "c", 10, 229, "rwm"), rule(true, "b", 8, 20, "rw"),
                                            rule(false, "c", 10, 229, "rwm"), rule(true, "c", 10, 229, "r")])
        XCTAssertEqual(Array(lines(DeviceState(defaultAllow: true).transition(to: again)).prefix(3)),
                       ["deny a *:* rwm", "allow b 8:20 rw", "allow c 10:229 r"])
        XCTAssertEqual(Array(again.orderedExceptions.map(\.match).prefix(2)),
                       [DeviceMatch(kind: .block, major: 8, minor: 20), DeviceMatch(kind: .char, major: 10, minor: 229)])
    }

    func testNoRulesStillGetRuncsDefaultsOnly() throws {
        let target = try DeviceRules.target(nil)
        XCTAssertFalse(target.defaultAllow)
        XCTAssertEqual(lines(DeviceState(defaultAllow: true).transition(to: target)), ["deny a *:* rwm"] + lines(DeviceRules.defaults))
        XCTAssertEqual(Set(lines(DeviceRules.defaults)), Set(defaultLines))
    }

    func testRulesApplyInOrderAllowAndDenyAlike() throws {
        // deny after allow: the device is denied; allow after deny: allowed.
        var t = try DeviceRules.target([rule(false), rule(true, "c", 10, 237, "rw"), rule(false, "c", 10, 237, "rw")])
        XCTAssertNil(t.exceptions[DeviceMatch(kind: .char, major: 10, minor: 237)])
        t = try DeviceRules.target([rule(false), rule(false, "c", 10, 237, "rw"), rule(true, "c", 10, 237, "rw")])
        XCTAssertEqual(t.exceptions[DeviceMatch(kind: .char, major: 10, minor: 237)], [.read, .write])
        // a deny after allow-all is an exception to it, which the kernel keeps
        t = try DeviceRules.target([rule(true), rule(false, "c", 1, 11, "rw")])
        XCTAssertTrue(t.defaultAllow)
        XCTAssertEqual(lines(DeviceState(defaultAllow: true).transition(to: t)), ["allow a *:* rwm", "deny c 1:11 rw"])
        // a later "a" resets everything before it
        t = try DeviceRules.target([rule(true, "c", 1, 11), rule(false, "a", nil, nil, "r")])
        XCTAssertFalse(t.defaultAllow)
        XCTAssertNil(t.exceptions[DeviceMatch(kind: .char, major: 1, minor: 11)])
    }

    func testAccessLettersAsRuncReadsThem() {
        XCTAssertEqual(DeviceAccess("rwa"), [.read, .write])
        XCTAssertEqual(DeviceAccess("mmr"), [.read, .mknod])
        XCTAssertEqual(DeviceAccess(nil), .all)
        XCTAssertEqual(DeviceAccess(""), .all)
        XCTAssertEqual(DeviceAccess("mwr").text, "rwm")
    }

    func testTheListIsTheConfigsRulesThenRuncsDefaults() {
        let list = DeviceRules.list([rule(false), rule(true, "b", 254, 0, "r")])
        XCTAssertEqual(lines(list), ["deny a *:* rwm", "allow b 254:0 r"] + lines(DeviceRules.defaults))
        XCTAssertEqual(Set(lines(DeviceRules.defaults)), Set(defaultLines))
        XCTAssertEqual(list[1].source, "linux.resources.devices[1]")
    }

    func testReapplyingWritesOnlyTheDifferenceWithoutAReset() throws {
        let before = try DeviceRules.target([rule(false), rule(true, "c", 10, 237, "rw"), rule(true, "c", 10, 229, "rwm")])
        let after = try DeviceRules.target([rule(false), rule(true, "c", 10, 237, "rw"), rule(true, "c", 10, 229, "r"),
                                            rule(true, "b", 7, 0, "r")])
        XCTAssertEqual(lines(before.transition(to: after)), ["deny c 10:229 wm", "allow b 7:0 r"])
        XCTAssertEqual(before.transition(to: before), [])
        // from allow-all (whose deny exceptions devices.list does not show) a reset is unavoidable
        XCTAssertEqual(lines(DeviceState(defaultAllow: true).transition(to: DeviceState(defaultAllow: true))), ["allow a *:* rwm"])
    }

    func testDevicesListRoundTrip() throws {
        let target = try DeviceRules.target([rule(false), rule(true, "c", 10, nil, "rw")])
        let text = DeviceState(defaultAllow: true).transition(to: target).dropFirst().map(\.line).joined(separator: "\n") + "\n"
        XCTAssertEqual(try DeviceState(list: text), target)
        XCTAssertEqual(try DeviceState(list: "a *:* rwm\n"), DeviceState(defaultAllow: true))
        XCTAssertThrowsError(try DeviceState(list: "c 1:3 rwx\n"))
        XCTAssertThrowsError(try DeviceState(list: "x 1:3 rwm\n"))
    }

    // MARK: refused rules

    func testHoleInAWildcardIsRefusedWithTheRulesPath() {
        XCTAssertThrowsError(try DeviceRules.target([rule(false), rule(true, "c", 10, nil, "rw"), rule(false, "c", 10, 237, "w")])) {
            XCTAssertEqual("\($0)", #"config.json: linux.resources.devices[2]: "c 10:237 w" is inside the allowed wildcard "c 10:* rw" of an earlier rule, and the devices cgroup cannot punch a hole in a wildcard"#)
        }
        // runc's defaults can run into one too: they are named
        XCTAssertThrowsError(try DeviceRules.target([rule(true), rule(false, "c", 10, nil, "rw")])) {
            XCTAssertEqual("\($0)", #"config.json: linux.resources.devices: runc's default devices: "c 10:200 rwm" is inside the denied wildcard "c 10:* rw" of an earlier rule, and the devices cgroup cannot punch a hole in a wildcard"#)
        }
        // disjoint access is no hole
        XCTAssertNoThrow(try DeviceRules.target([rule(false), rule(true, "c", 10, nil, "r"), rule(false, "c", 10, 237, "w")]))
    }

    func testWildcardDenyLeavingANarrowerAllowIsRefused() {
        XCTAssertThrowsError(try DeviceRules.target([rule(false), rule(true, "c", 10, 237, "rw"), rule(false, "c", 10, nil, "w")])) {
            XCTAssertEqual("\($0)", #"config.json: linux.resources.devices[2]: does not take back "c 10:237 rw" allowed by an earlier rule (the devices cgroup removes only an identical rule): deny that device by its own numbers"#)
        }
        // in allow-all mode a narrower deny only denies more: accepted
        XCTAssertNoThrow(try DeviceRules.target([rule(true), rule(false, "c", 10, 237, "rw"), rule(true, "c", 10, nil, "rw")]))
    }

    // MARK: the eBPF program

    let prologue = [I(code: 0x61, dst: 2, src: 1), I(code: 0x54, dst: 2, imm: 0xffff), I(code: 0x61, dst: 3, src: 1),
                    I(code: 0x74, dst: 3, imm: 16), I(code: 0x61, dst: 4, src: 1, off: 4), I(code: 0x61, dst: 5, src: 1, off: 8)]
    func ret(_ v: Int32) -> [I] { [I(code: 0xb4, dst: 0, imm: v), I(code: 0x95)] }

    func testProgramForDenyAllIsPrologueAndDeny() {
        XCTAssertEqual(DeviceProgram.build(DeviceState()), prologue + ret(0))
    }

    func testProgramAllowBlocks() {
        let state = DeviceState(exceptions: [DeviceMatch(kind: .char, major: 10, minor: 237): [.read, .write],
                                             DeviceMatch(kind: .block, major: nil, minor: nil): .all,
                                             DeviceMatch(kind: .char, major: 136, minor: nil): .all])
        let want = prologue
            // b *:* rwm (sorted first: wildcards): type only
            + [I(code: 0x55, dst: 2, off: 2, imm: 1)] + ret(1)
            // c 10:237 rw: type, access (requested & rw == requested), major, minor
            + [I(code: 0x55, dst: 2, off: 7, imm: 2), I(code: 0xbc, dst: 1, src: 3), I(code: 0x54, dst: 1, imm: 6),
               I(code: 0x5d, dst: 1, src: 3, off: 4), I(code: 0x55, dst: 4, off: 3, imm: 10), I(code: 0x55, dst: 5, off: 2, imm: 237)] + ret(1)
            // c 136:* rwm
            + [I(code: 0x55, dst: 2, off: 3, imm: 2), I(code: 0x55, dst: 4, off: 2, imm: 136)] + ret(1)
            + ret(0)
        XCTAssertEqual(DeviceProgram.build(state), want)
    }

    func testProgramDenyBlocksMatchAnySharedAccess() {
        let state = DeviceState(defaultAllow: true, exceptions: [DeviceMatch(kind: .char, major: 1, minor: 11): [.write]])
        let want = prologue
            + [I(code: 0x55, dst: 2, off: 7, imm: 2), I(code: 0xbc, dst: 1, src: 3), I(code: 0x54, dst: 1, imm: 4),
               I(code: 0x15, dst: 1, off: 4), I(code: 0x55, dst: 4, off: 3, imm: 1), I(code: 0x55, dst: 5, off: 2, imm: 11)] + ret(0)
            + ret(1)
        XCTAssertEqual(DeviceProgram.build(state), want)
    }

    func testInstructionEncoding() {
        // r2 = *(u32 *)(r1 + 4): code 0x61, dst 2 (low nibble), src 1, off 4
        XCTAssertEqual(I(code: 0x61, dst: 2, src: 1, off: 4).encoded, 0x0000_0000_0004_1261)
        // if r4 != 0xffffffff goto -1: imm and off as two's complement
        XCTAssertEqual(I(code: 0x55, dst: 4, off: -1, imm: -1).encoded, 0xffff_ffff_ffff_0455)
    }

    /// The rules of the default configs build a program with one block per
    /// allowed device and a deny at the end.
    func testDefaultConfigProgramSize() throws {
        let state = try DeviceRules.target([rule(false)])
        let program = DeviceProgram.build(state)
        XCTAssertEqual(state.exceptions.count, 11)
        XCTAssertEqual(Array(program.suffix(2)), ret(0))
        XCTAssertEqual(program.filter { $0.code == 0x95 }.count, 12)
    }
}
