import ApusSpec
import CApusShim
import Glibc

/// Runs OCI hooks: each gets the container's state JSON on stdin, its own
/// args and env, and is killed when its timeout passes.
public enum Hooks {
    public enum Kind: String {
        case prestart, createRuntime, createContainer, startContainer, poststart, poststop
    }

    public static func list(_ kind: Kind, in hooks: ApusSpec.Hooks?) -> [Hook] {
        guard let hooks else { return [] }
        switch kind {
        case .prestart: return hooks.prestart ?? []
        case .createRuntime: return hooks.createRuntime ?? []
        case .createContainer: return hooks.createContainer ?? []
        case .startContainer: return hooks.startContainer ?? []
        case .poststart: return hooks.poststart ?? []
        case .poststop: return hooks.poststop ?? []
        }
    }

    /// Runs every hook of `kind` in order, stopping at the first failure.
    public static func run(_ kind: Kind, hooks: ApusSpec.Hooks?, state: JSONValue) throws {
        let input = Array(JSONWriter.compact(state).utf8)
        for (i, hook) in list(kind, in: hooks).enumerated() {
            do { try run(hook, input: input) } catch let e as RuntimeError {
                throw RuntimeError.hook(kind: kind.rawValue, index: i, path: hook.path, reason: e.description)
            }
        }
    }

    /// Hooks whose failure the spec says only to warn about (poststart,
    /// poststop): every one runs, each failure is a warning.
    public static func runWarning(_ kind: Kind, hooks: ApusSpec.Hooks?, state: JSONValue, log: (String) -> Void) {
        let input = Array(JSONWriter.compact(state).utf8)
        for (i, hook) in list(kind, in: hooks).enumerated() {
            do { try run(hook, input: input) } catch {
                log("\(RuntimeError.hook(kind: kind.rawValue, index: i, path: hook.path, reason: "\(error)"))")
            }
        }
    }

    static func run(_ hook: Hook, input: [UInt8]) throws {
        var pipeFDs: [Int32] = [-1, -1]
        try check(apus_pipe_cloexec(&pipeFDs), "running hook", "pipe2()")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[0], 0)
        let args = hook.args.flatMap { $0.isEmpty ? nil : $0 } ?? [hook.path]
        var cArgs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        var cEnv: [UnsafeMutablePointer<CChar>?] = (hook.env ?? []).map { strdup($0) } + [nil]
        defer { (cArgs + cEnv).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, hook.path, &actions, nil, &cArgs, &cEnv)
        close(pipeFDs[0])
        if rc != 0 {
            close(pipeFDs[1])
            throw RuntimeError.syscall(step: "starting hook", call: "posix_spawn(\(hook.path))", errno: rc)
        }
        let pidfd = apus_pidfd_open(pid)
        defer { if pidfd >= 0 { close(pidfd) } }
        let deadline = hook.timeout.flatMap { $0 > 0 ? Deadline(seconds: $0) : nil }
        // The state goes in while the timeout runs: a hook that never reads
        // (with more than a pipe's worth of state) is killed on time too.
        let exited = try feed(pipeFDs[1], input, until: deadline, pidfd: pidfd)
        close(pipeFDs[1])
        let status = try wait(pid, pidfd: exited ? -1 : pidfd, deadline: deadline, timeout: hook.timeout ?? 0)
        if status != 0 { throw RuntimeError.other(describe(status: status)) }
    }

    /// Writes `input` to the hook's stdin (non-blocking) until done, the
    /// hook exits (true), or the deadline passes (the hook is killed later).
    private static func feed(_ fd: Int32, _ input: [UInt8], until deadline: Deadline?, pidfd: Int32) throws -> Bool {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        // A hook that exits without reading its stdin must not kill us with SIGPIPE.
        let old = signal(SIGPIPE, SIG_IGN)
        defer { signal(SIGPIPE, old) }
        var offset = 0
        while offset < input.count {
            var fds = [pollfd(fd: fd, events: Int16(POLLOUT), revents: 0), pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, pidfd >= 0 ? 2 : 1, deadline?.remainingMilliseconds ?? -1)
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { return false } // timed out (or poll failed): the wait below kills it
            if fds[1].revents != 0 { return true }
            let n = input.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                return false // EPIPE: the hook closed its stdin; its exit status decides
            }
            offset += n
        }
        return false
    }

    /// Waits for a hook, killing it when the deadline passes.
    static func wait(_ pid: pid_t, pidfd: Int32, deadline: Deadline?, timeout: Int) throws -> Int32 {
        var status: Int32 = 0
        if let deadline, pidfd >= 0 {
            var pfd = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
            var ready: Int32
            repeat { ready = poll(&pfd, 1, deadline.remainingMilliseconds) } while ready < 0 && errno == EINTR
            if ready == 0 {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                throw RuntimeError.other("hook ran past its timeout of \(timeout)s and was killed")
            }
        }
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { throw RuntimeError.syscall(step: "waiting for hook", call: "waitpid(\(pid))", errno: errno) }
        }
        return status
    }

    static func describe(status: Int32) -> String {
        let sig = status & 0x7f
        if sig == 0 { return "exit status \((status >> 8) & 0xff)" }
        // Go's words, as runc prints them ("signal: bad system call").
        guard let name = strsignal(sig).map({ String(cString: $0) }), let first = name.first else { return "signal: \(sig)" }
        return "signal: " + first.lowercased() + name.dropFirst()
    }
}
