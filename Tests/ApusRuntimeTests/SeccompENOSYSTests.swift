@testable import ApusRuntime
import ApusSpec
import XCTest

/// The ENOSYS prologue, run by a small classic-BPF interpreter in front of
/// a stand-in for libseccomp's program (which returns `filterMark`).
final class SeccompENOSYSTests: XCTestCase {
    typealias E = SeccompENOSYS
    static let filterMark: UInt32 = 0x7fff_1234
    static let i386: UInt32 = 0x4000_0003, aarch64: UInt32 = 0xC000_00B7, s390x: UInt32 = 0x8000_0016

    /// Runs `program` on seccomp_data {nr, arch}; reaching its end means libseccomp's program.
    private func run(_ program: [E.Instruction], nr: UInt32, arch: UInt32) -> UInt32 {
        var acc: UInt32 = 0
        var pc = 0
        while pc < program.count {
            let i = program[pc]
            pc += 1
            switch i.code {
            case E.ldAbsW: acc = i.k == 0 ? nr : (i.k == 4 ? arch : 0xdead)
            case E.ja: pc += Int(i.k)
            case E.jeq: pc += Int(acc == i.k ? i.jt : i.jf)
            case E.jgt: pc += Int(acc > i.k ? i.jt : i.jf)
            case E.jset: pc += Int(acc & i.k != 0 ? i.jt : i.jf)
            case E.retK: return i.k
            default: XCTFail("unknown opcode \(i.code)"); return 0
            }
        }
        XCTAssertEqual(pc, program.count, "a jump past libseccomp's first instruction")
        return Self.filterMark
    }

    func testLimitsPerArchitectureWithX32FoldedIntoX86_64() {
        let table: [UInt32: [String: Int32]] = [
            E.auditX86_64: ["read": 0, "openat2": 437, "bogus": -1],
            E.tokenX32: ["read": 0x4000_0000, "openat2": 0x4000_01b5],
            Self.i386: ["read": 3, "openat2": 437, "socket": -101],
            Self.aarch64: [:],
        ]
        let limits = E.limits(tokens: [E.auditX86_64, E.tokenX32, Self.i386, Self.aarch64],
                              names: ["read", "openat2", "bogus", "socket"]) { table[$0]?[$1] ?? -1 }
        XCTAssertEqual(limits, [E.Limit(audit: E.auditX86_64, newest: 437, newestX32: 0x4000_01b5),
                                E.Limit(audit: Self.i386, newest: 437, newestX32: nil)])
    }

    func testNumbersAboveTheNewestGetENOSYSOthersGoToTheFilter() {
        let stub = E.stub([E.Limit(audit: E.auditX86_64, newest: 435, newestX32: nil),
                           E.Limit(audit: Self.i386, newest: 400, newestX32: nil)])
        XCTAssertEqual(run(stub, nr: 0, arch: E.auditX86_64), Self.filterMark)
        XCTAssertEqual(run(stub, nr: 435, arch: E.auditX86_64), Self.filterMark)
        XCTAssertEqual(run(stub, nr: 436, arch: E.auditX86_64), E.retENOSYS)
        XCTAssertEqual(run(stub, nr: 1000, arch: E.auditX86_64), E.retENOSYS)
        XCTAssertEqual(run(stub, nr: 0x3fff_ffff, arch: E.auditX86_64), E.retENOSYS)
        // x32 not in the filter: libseccomp's program decides (bad arch)
        XCTAssertEqual(run(stub, nr: 0x4000_0000 | 1000, arch: E.auditX86_64), Self.filterMark)
        XCTAssertEqual(run(stub, nr: 400, arch: Self.i386), Self.filterMark)
        XCTAssertEqual(run(stub, nr: 401, arch: Self.i386), E.retENOSYS)
        // an architecture the prologue does not know
        XCTAssertEqual(run(stub, nr: 5000, arch: Self.aarch64), Self.filterMark)
    }

    func testX86_64AndX32EachTheirOwnNewest() {
        let stub = E.stub([E.Limit(audit: E.auditX86_64, newest: 435, newestX32: 0x4000_0000 | 300)])
        XCTAssertEqual(run(stub, nr: 300, arch: E.auditX86_64), Self.filterMark)
        XCTAssertEqual(run(stub, nr: 436, arch: E.auditX86_64), E.retENOSYS)
        XCTAssertEqual(run(stub, nr: 0x4000_0000 | 300, arch: E.auditX86_64), Self.filterMark)
        XCTAssertEqual(run(stub, nr: 0x4000_0000 | 301, arch: E.auditX86_64), E.retENOSYS)
        let onlyX32 = E.stub([E.Limit(audit: E.auditX86_64, newest: nil, newestX32: 0x4000_0000 | 300)])
        XCTAssertEqual(run(onlyX32, nr: 1000, arch: E.auditX86_64), Self.filterMark)
        XCTAssertEqual(run(onlyX32, nr: 0x4000_0000 | 301, arch: E.auditX86_64), E.retENOSYS)
    }

    func testS390MultiplexerAndNoLimits() {
        let stub = E.stub([E.Limit(audit: Self.s390x, newest: 400, newestX32: nil)])
        XCTAssertEqual(run(stub, nr: 0, arch: Self.s390x), E.retENOSYS)
        XCTAssertEqual(run(stub, nr: 1, arch: Self.s390x), Self.filterMark)
        XCTAssertEqual(run(E.stub([]), nr: 1000, arch: E.auditX86_64), Self.filterMark)
    }

    func testManyArchitecturesStillFitEightBitJumps() {
        let limits = (0..<20).map { E.Limit(audit: 0x1000 + UInt32($0), newest: 10, newestX32: nil) }
        let stub = E.stub(limits)
        XCTAssertEqual(run(stub, nr: 11, arch: 0x1000 + 19), E.retENOSYS)
        XCTAssertEqual(run(stub, nr: 10, arch: 0x1000), Self.filterMark)
    }

    func testBytesAreSockFilterLayout() {
        let b = E.bytes([E.Instruction(code: 0x15, jt: 2, jf: 3, k: 0x0102_0304)])
        XCTAssertEqual(b.count, 8)
        XCTAssertEqual(Array(b[2...3]), [2, 3])
    }

    func testRuncsRuleForWhenTheStubApplies() {
        func profile(_ a: SeccompAction, errno: UInt32? = nil) -> Seccomp {
            var s = Seccomp(defaultAction: a, syscalls: [])
            s.defaultErrnoRet = errno
            return s
        }
        XCTAssertTrue(SeccompFilter.wantsENOSYS(profile(.SCMP_ACT_ERRNO)))
        XCTAssertTrue(SeccompFilter.wantsENOSYS(profile(.SCMP_ACT_KILL)))
        XCTAssertFalse(SeccompFilter.wantsENOSYS(profile(.SCMP_ACT_ERRNO, errno: 38)))
        XCTAssertFalse(SeccompFilter.wantsENOSYS(profile(.SCMP_ACT_ALLOW)))
        XCTAssertFalse(SeccompFilter.wantsENOSYS(profile(.SCMP_ACT_LOG)))
    }
}
