import Glibc

/// Signal names as runc accepts them: `KILL`, `SIGKILL`, `kill` or `9`.
public enum Signals {
    static let names: [(String, Int32)] = [
        ("HUP", SIGHUP), ("INT", SIGINT), ("QUIT", SIGQUIT), ("ILL", SIGILL), ("TRAP", SIGTRAP),
        ("ABRT", SIGABRT), ("IOT", SIGIOT), ("BUS", SIGBUS), ("FPE", SIGFPE), ("KILL", SIGKILL),
        ("USR1", SIGUSR1), ("SEGV", SIGSEGV), ("USR2", SIGUSR2), ("PIPE", SIGPIPE), ("ALRM", SIGALRM),
        ("TERM", SIGTERM), ("STKFLT", SIGSTKFLT), ("CHLD", SIGCHLD), ("CONT", SIGCONT), ("STOP", SIGSTOP),
        ("TSTP", SIGTSTP), ("TTIN", SIGTTIN), ("TTOU", SIGTTOU), ("URG", SIGURG), ("XCPU", SIGXCPU),
        ("XFSZ", SIGXFSZ), ("VTALRM", SIGVTALRM), ("PROF", SIGPROF), ("WINCH", SIGWINCH), ("IO", SIGIO),
        ("POLL", SIGPOLL), ("PWR", SIGPWR), ("SYS", SIGSYS),
    ]

    public static func parse(_ text: String) throws -> Int32 {
        if let n = Int32(text) {
            guard n >= 0 && n <= 64 else { throw RuntimeError.other("unable to signal init: invalid argument") }
            return n
        }
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        if let (_, n) = names.first(where: { $0.0 == name }) { return n }
        if name.hasPrefix("RTMIN"), let n = rt(name.dropFirst(5), base: SIGRTMIN(), sign: 1) { return n }
        if name.hasPrefix("RTMAX"), let n = rt(name.dropFirst(5), base: SIGRTMAX(), sign: -1) { return n }
        throw RuntimeError.usage("unknown signal \"\(text)\"")
    }

    private static func rt(_ rest: Substring, base: Int32, sign: Int32) -> Int32? {
        if rest.isEmpty { return base }
        let expected: Character = sign > 0 ? "+" : "-"
        guard rest.first == expected, let off = Int32(rest.dropFirst()), off >= 0 else { return nil }
        let n = base + sign * off
        return n >= SIGRTMIN() && n <= SIGRTMAX() ? n : nil
    }
}

private func SIGRTMIN() -> Int32 { Int32(__libc_current_sigrtmin()) }
private func SIGRTMAX() -> Int32 { Int32(__libc_current_sigrtmax()) }
