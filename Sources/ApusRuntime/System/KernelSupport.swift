import CApusShim
import Glibc

/// The syscalls apus cannot work without, and the Linux release that
/// brought each. A kernel without one gets one clear message up front
/// instead of "Function not implemented" from deep inside a step.
enum KernelSupport {
    static let minimum = "5.12"
    /// Numbers from the unified table every architecture shares since 5.1.
    static let required: [(name: String, number: Int, since: String)] = [
        ("pidfd_open", 434, "5.3"),      // kill, hooks
        ("openat2", 437, "5.6"),         // every path inside the rootfs and /proc
        ("close_range", 436, "5.11"),    // CLOSE_RANGE_CLOEXEC before exec
        ("mount_setattr", 442, "5.12"),  // mount attributes, id-mapped and read-only mounts
    ]

    static func check(missing: (Int) -> Bool = { apus_syscall_missing($0) == 1 }) throws {
        let absent = required.filter { missing($0.number) }
        guard !absent.isEmpty else { return }
        let names = absent.map { "\($0.name)(2) (Linux \($0.since))" }.joined(separator: ", ")
        throw RuntimeError.other("this kernel (Linux \(release)) lacks \(names): apus needs Linux \(minimum) or later")
    }

    static var release: String {
        var u = utsname()
        guard uname(&u) == 0 else { return "unknown" }
        return withUnsafeBytes(of: u.release) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
    }
}
