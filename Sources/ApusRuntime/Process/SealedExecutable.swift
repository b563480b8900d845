import CApusShim
import Glibc

/// CVE-2019-5736: a container process that execs `/proc/self/exe` (a
/// `#!/proc/self/exe` entrypoint, or the init's and exec's own image before
/// execve) runs the host's apus binary; anything that can then open
/// `/proc/<pid>/exe` for writing would overwrite it. So `create`, `run` and
/// `exec` first re-execute apus from a copy that the kernel refuses to
/// write: a read-only, detached bind mount of the binary (cheap: no copy,
/// in no mount namespace), or a sealed memfd copy where the mount API is
/// not allowed. Every process that later enters the container is forked
/// from that image. A binary already on a read-only mount needs nothing.
///
/// Stage 0 (CApusShim `apus_seal_early`, a constructor of the `apus`
/// executable) already does this before the Swift runtime starts when the
/// command line names `create`, `run` or `exec`; `ensure()` is the check
/// that holds whatever stage 0 did or missed, and the one that reports.
public enum SealedExecutable {
    /// Forces the memfd copy (for tests of the fallback).
    static let methodVariable = "APUS_EXE_SEAL"

    /// Returns when the running image is write-protected; otherwise
    /// re-executes it (does not return) or throws.
    public static func ensure() throws {
        #if APUS_BENCH_UNPROTECTED
        return
        #else
        let proc = try ProcFS.host()
        defer { proc.close() }
        let sealed = apus_exe_is_sealed(proc.fd)
        try check(sealed, "protecting the apus binary", "open(/proc/self/exe)")
        // Set across the re-exec: a second pass that is still not sealed
        // is an error, never a loop.
        let again = getenv(APUS_SEALED_MARKER) != nil
        if again { unsetenv(APUS_SEALED_MARKER) }
        if sealed == 1 { return }
        if again {
            throw RuntimeError.unsafe(step: "protecting the apus binary",
                                      reason: "the re-executed image is still writable through /proc/self/exe")
        }
        let forceMemfd = getenv(methodVariable).map { String(cString: $0) == "memfd" } ?? false
        var call: UnsafePointer<CChar>?
        _ = apus_exe_reexec_sealed(proc.fd, CommandLine.unsafeArgv, forceMemfd ? 1 : 0, &call)
        let err = errno
        throw RuntimeError.syscall(step: "protecting the apus binary", call: call.map { String(cString: $0) } ?? "execveat", errno: err)
        #endif
    }

    /// The init continues in Swift after a raw clone(2), which is only safe
    /// in a single-threaded process: checked before every spawn.
    static func assertSingleThreaded() throws {
        guard let st = ProcStat.read(pid: getpid()) else {
            throw RuntimeError.syscall(step: "starting the container process", call: "read(/proc/self/stat)", errno: errno)
        }
        if st.threads != 1 {
            throw RuntimeError.unsafe(step: "starting the container process",
                                      reason: "apus has \(st.threads) threads; forking into namespaces needs exactly one")
        }
    }
}
