import ApusSpec
import CApusShim
import Glibc

extension Runtime {
    /// `apus run`: create + start. In the foreground apus stays the init's
    /// parent: it forwards signals, reaps, and exits with the container's
    /// status (128+n when killed by signal n), deleting it unless --keep.
    public func run(id: String, options: CreateOptions, detach: Bool, keep: Bool) throws -> Int32 {
        if !detach {
            // Orphans of the container are re-parented to us, not to the host's init.
            _ = apus_prctl(36 /* PR_SET_CHILD_SUBREAPER */, 1, 0, 0, 0)
        }
        try create(id: id, options: options)
        let dir = try store.open(id)
        let record = try dir.load()
        if detach {
            try start(id: id)
            return 0
        }
        var all = sigset_t()
        sigfillset(&all)
        var old = sigset_t()
        sigprocmask(SIG_BLOCK, &all, &old)
        defer { sigprocmask(SIG_SETMASK, &old, nil) }
        do { try start(id: id) } catch {
            try? delete(id: id, force: true)
            throw error
        }
        let status = forwardSignalsUntilExit(pid: record.pid)
        if !keep { try delete(id: id, force: true) }
        return status
    }

    private func forwardSignalsUntilExit(pid: Int32) -> Int32 {
        var set = sigset_t()
        sigfillset(&set)
        while true {
            var info = siginfo_t()
            let sig = sigwaitinfo(&set, &info)
            if sig < 0 { continue }
            if sig == SIGCHLD {
                var status: Int32 = 0
                while true {
                    let reaped = waitpid(-1, &status, WNOHANG)
                    if reaped <= 0 { break }
                    if reaped == pid { return exitCode(status) }
                }
                continue
            }
            Glibc.kill(pid, sig)
        }
    }

    private func exitCode(_ status: Int32) -> Int32 {
        let sig = status & 0x7f
        return sig == 0 ? (status >> 8) & 0xff : 128 + sig
    }
}
