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

    /// Hooks whose failure the spec says only to warn about (poststart, poststop).
    public static func runWarning(_ kind: Kind, hooks: ApusSpec.Hooks?, state: JSONValue, log: (String) -> Void) {
        do { try run(kind, hooks: hooks, state: state) } catch { log("\(error)") }
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
        // A hook that exits without reading its stdin must not kill us with SIGPIPE.
        let old = signal(SIGPIPE, SIG_IGN)
        _ = try? FS.writeAll(pipeFDs[1], input, path: "hook stdin")
        signal(SIGPIPE, old)
        close(pipeFDs[1])
        let status = try wait(pid, timeout: hook.timeout)
        if status != 0 { throw RuntimeError.other(describe(status: status)) }
    }

    /// Waits for a hook, killing it when the timeout (seconds) passes.
    static func wait(_ pid: pid_t, timeout: Int?) throws -> Int32 {
        var status: Int32 = 0
        guard let timeout, timeout > 0 else {
            while waitpid(pid, &status, 0) < 0 {
                if errno != EINTR { throw RuntimeError.syscall(step: "waiting for hook", call: "waitpid(\(pid))", errno: errno) }
            }
            return status
        }
        let pidfd = apus_pidfd_open(pid)
        defer { if pidfd >= 0 { close(pidfd) } }
        var pfd = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
        let ready = pidfd >= 0 ? poll(&pfd, 1, Int32(min(timeout, Int(Int32.max / 1000)) * 1000)) : 1
        if ready == 0 {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
            throw RuntimeError.other("hook ran past its timeout of \(timeout)s and was killed")
        }
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { throw RuntimeError.syscall(step: "waiting for hook", call: "waitpid(\(pid))", errno: errno) }
        }
        return status
    }

    static func describe(status: Int32) -> String {
        let sig = status & 0x7f
        if sig == 0 { return "exit status \((status >> 8) & 0xff)" }
        return "killed by signal \(sig)"
    }
}
