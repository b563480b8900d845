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
public enum SealedExecutable {
    /// Set across the re-exec: a second pass that is still not sealed is
    /// an error, never a loop.
    static let marker = "_APUS_SEALED_EXEC"
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
        let again = getenv(marker) != nil
        if again { unsetenv(marker) }
        if sealed == 1 { return }
        if again {
            throw RuntimeError.unsafe(step: "protecting the apus binary",
                                      reason: "the re-executed image is still writable through /proc/self/exe")
        }
        let forceMemfd = getenv(methodVariable).map { String(cString: $0) == "memfd" } ?? false
        var fd: Int32 = forceMemfd ? -1 : apus_exe_ro_clone(proc.fd)
        var call = "open_tree(/proc/self/exe, OPEN_TREE_CLONE)"
        if fd < 0 {
            fd = apus_exe_memfd_copy(proc.fd)
            call = "memfd_create + sendfile(/proc/self/exe)"
        }
        try check(fd, "protecting the apus binary", call)
        setenv(marker, "1", 1)
        let err = apus_execveat_fd(fd, CommandLine.unsafeArgv, environ)
        unsetenv(marker)
        close(fd)
        throw RuntimeError.syscall(step: "protecting the apus binary", call: "execveat(sealed apus)", errno: err < 0 ? errno : EIO)
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
