import CApusShim
import Glibc

/// Runs a helper program (ps, newuidmap) and captures its stdout (and stderr).
enum Subprocess {
    static func capture(_ args: [String], stderr: Bool = false) throws -> (status: Int32, output: String) {
        var fds: [Int32] = [-1, -1]
        try check(apus_pipe_cloexec(&fds), "running \(args[0])", "pipe2()")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        if stderr { posix_spawn_file_actions_adddup2(&actions, fds[1], 2) }
        var cArgs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, args[0], &actions, nil, &cArgs, environ)
        close(fds[1])
        defer { close(fds[0]) }
        if rc != 0 { throw RuntimeError.syscall(step: "running \(args[0])", call: "posix_spawnp(\(args[0]))", errno: rc) }
        let out = try FS.readAll(fds[0], path: args[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status, String(decoding: out, as: UTF8.self))
    }
}
