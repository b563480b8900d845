import CApusShim
import Glibc
import XCTest

/// CApusShim/faultaround.c on this (PIE, dynamic) test executable: armed
/// where the kernel has asynchronous userfaultfd write-protect (6.7), the
/// descriptor close-on-exec and gone when a child drops it.
final class FaultAroundTests: XCTestCase {
    private func kernelHasWPAsync() -> Bool {
        var u = utsname()
        guard uname(&u) == 0 else { return false }
        let release = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let parts = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        guard parts.count == 2 else { return false }
        return (parts[0], parts[1]) >= (6, 7)
    }

    private func link(_ fd: Int32) -> String {
        var buf = [CChar](repeating: 0, count: 256)
        let n = readlink("/proc/self/fd/\(fd)", &buf, buf.count - 1)
        return n > 0 ? String(cString: buf) : ""
    }

    override func tearDown() {
        apus_fault_around_end()
        unsetenv("APUS_FAULT_AROUND")
    }

    func testArmsWithACloseOnExecUserfaultfdAndDropsIt() throws {
        try XCTSkipUnless(kernelHasWPAsync(), "asynchronous userfaultfd write-protect needs Linux 6.7")
        apus_fault_around_off()
        let fd = apus_fault_around_fd()
        XCTAssertGreaterThanOrEqual(fd, 0)
        XCTAssertEqual(link(fd), "anon_inode:[userfaultfd]")
        XCTAssertNotEqual(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0, "it must not outlive an execve")
        apus_fault_around_off()
        XCTAssertEqual(apus_fault_around_fd(), fd, "armed once")

        // what a forked child does first: drop it, arm its own
        apus_fault_around_child(1)
        let own = apus_fault_around_fd()
        XCTAssertGreaterThanOrEqual(own, 0)
        apus_fault_around_child(0)
        XCTAssertEqual(apus_fault_around_fd(), -1)
        XCTAssertEqual(fcntl(own, F_GETFD), -1, "closed")
    }

    func testLeftAloneWithAPUS_FAULT_AROUNDOn() {
        setenv("APUS_FAULT_AROUND", "on", 1)
        apus_fault_around_off()
        XCTAssertEqual(apus_fault_around_fd(), -1)
    }
}
