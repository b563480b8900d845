import ApusSpec
import CApusShim
import CSeccomp
import Glibc

/// `linux.seccomp` compiled with libseccomp. The filter is built and
/// loaded before the process reports READY (so a bad profile fails
/// `create`): as the last step of its setup when no_new_privs is set,
/// otherwise before the capabilities are dropped (loading needs
/// CAP_SYS_ADMIN then). libseccomp's program is exported when the filter
/// is built, the ENOSYS prologue put before it (SeccompENOSYS.swift), and
/// the whole loaded with seccomp(2) and the profile's flags. With
/// SCMP_ACT_NOTIFY rules the listener goes to the seccomp agent
/// (SeccompNotify.swift).
final class SeccompFilter {
    /// The program as seccomp(2) reads it: the prologue, then libseccomp's.
    private let program: [UInt8]
    /// SECCOMP_FILTER_FLAG_* for seccomp(2).
    private let flags: UInt32
    private(set) var loaded = false
    /// The notify listener once loaded (SCMP_ACT_NOTIFY rules), else -1.
    private(set) var listener: Int32 = -1

    /// Whether the profile has SCMP_ACT_NOTIFY rules (and so a listener).
    static func notifies(_ s: Seccomp) -> Bool {
        (s.syscalls ?? []).contains { $0.action == .SCMP_ACT_NOTIFY }
    }

    /// The libseccomp action for a spec action (the SCMP_ACT_* macros take
    /// arguments, so Swift cannot import them).
    static func action(_ a: SeccompAction, errno: UInt32?) -> UInt32 {
        switch a {
        case .SCMP_ACT_KILL, .SCMP_ACT_KILL_THREAD: return 0x0000_0000
        case .SCMP_ACT_KILL_PROCESS: return 0x8000_0000
        case .SCMP_ACT_TRAP: return 0x0003_0000
        case .SCMP_ACT_ERRNO: return 0x0005_0000 | ((errno ?? UInt32(EPERM)) & 0xffff)
        case .SCMP_ACT_TRACE: return 0x7ff0_0000 | ((errno ?? UInt32(EPERM)) & 0xffff)
        case .SCMP_ACT_LOG: return 0x7ffc_0000
        case .SCMP_ACT_ALLOW: return 0x7fff_0000
        case .SCMP_ACT_NOTIFY: return 0x7fc0_0000
        }
    }

    /// libseccomp's name for an architecture: SCMP_ARCH_X86_64 → "x86_64".
    static func archName(_ a: SeccompArch) -> String {
        // ASCII by hand: String.lowercased() pulls in Unicode tables and
        // dominated `apus features` startup.
        let bytes = a.rawValue.utf8.dropFirst("SCMP_ARCH_".count).map { $0 >= 0x41 && $0 <= 0x5a ? $0 + 0x20 : $0 }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func compare(_ op: SeccompOperator) -> scmp_compare {
        switch op {
        case .SCMP_CMP_NE: return SCMP_CMP_NE
        case .SCMP_CMP_LT: return SCMP_CMP_LT
        case .SCMP_CMP_LE: return SCMP_CMP_LE
        case .SCMP_CMP_EQ: return SCMP_CMP_EQ
        case .SCMP_CMP_GE: return SCMP_CMP_GE
        case .SCMP_CMP_GT: return SCMP_CMP_GT
        case .SCMP_CMP_MASKED_EQ: return SCMP_CMP_MASKED_EQ
        }
    }

    /// What Apus cannot honour in the profile (empty if nothing), checked
    /// before anything is created.
    static func unsupported(_ s: Seccomp) -> [RuntimeError] {
        var out: [RuntimeError] = []
        for (i, rule) in (s.syscalls ?? []).enumerated() where rule.action == .SCMP_ACT_NOTIFY {
            // The listener is handed to apus over a socket after the filter is loaded: these must not wait for it.
            for (j, name) in rule.names.enumerated() where SeccompNotify.handOverSyscalls.contains(name) {
                out.append(.unsupported(path: "linux.seccomp.syscalls[\(i)].names[\(j)]",
                                        reason: "SCMP_ACT_NOTIFY cannot be used for \"\(name)\" (apus hands the listener over with it)"))
            }
        }
        if let i = (s.flags ?? []).firstIndex(of: .SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV), !notifies(s) {
            out.append(.unsupported(path: "linux.seccomp.flags[\(i)]",
                                    reason: "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs an SCMP_ACT_NOTIFY rule (the kernel refuses it without a listener)"))
        }
        for (i, a) in (s.architectures ?? []).enumerated() where seccomp_arch_resolve_name(archName(a)) == 0 {
            out.append(.unsupported(path: "linux.seccomp.architectures[\(i)]",
                                    reason: "libseccomp \(SeccompLibrary.version) does not know \(a.rawValue)"))
        }
        return out
    }

    /// Syscall names libseccomp does not know: the filter skips them (as
    /// runc does, since profiles name syscalls of newer kernels).
    static func unknownSyscalls(_ s: Seccomp) -> [(path: String, name: String)] {
        var out: [(path: String, name: String)] = []
        for (i, rule) in (s.syscalls ?? []).enumerated() {
            for (j, name) in rule.names.enumerated() where !name.isEmpty && seccomp_syscall_resolve_name(name) == __NR_SCMP_ERROR {
                out.append(("linux.seccomp.syscalls[\(i)].names[\(j)]", name))
            }
        }
        return out
    }

    init(_ s: Seccomp) throws {
        let defaultAction = Self.action(s.defaultAction, errno: s.defaultErrnoRet)
        guard let ctx = seccomp_init(defaultAction) else {
            throw RuntimeError.other("seccomp: seccomp_init failed")
        }
        defer { seccomp_release(ctx) }
        var tokens = [seccomp_arch_native()]
        for arch in s.architectures ?? [] {
            let token = seccomp_arch_resolve_name(Self.archName(arch))
            let rc = seccomp_arch_add(ctx, token)
            if rc < 0 && rc != -EEXIST { try Self.check(rc, "seccomp_arch_add(\(arch.rawValue))") }
            if !tokens.contains(token) { tokens.append(token) }
        }
        for (i, rule) in (s.syscalls ?? []).enumerated() {
            let action = Self.action(rule.action, errno: rule.errnoRet)
            for name in rule.names {
                // Profiles name syscalls this kernel or libseccomp may not know; like runc, skip them.
                let nr = seccomp_syscall_resolve_name(name)
                if nr == __NR_SCMP_ERROR { continue }
                // libseccomp refuses rules that repeat the default action; they are no-ops anyway.
                if action == defaultAction { continue }
                try Self.add(ctx, action, nr, rule.args ?? [], what: "linux.seccomp.syscalls[\(i)] \(name)")
            }
        }
        var stub: [SeccompENOSYS.Instruction] = []
        if Self.wantsENOSYS(s) {
            let names = (s.syscalls ?? []).flatMap { $0.names }.filter { !$0.isEmpty }
            let limits = SeccompENOSYS.limits(tokens: tokens, names: names) { seccomp_syscall_resolve_name_arch($0, $1) }
            stub = SeccompENOSYS.stub(limits)
        }
        program = try SeccompENOSYS.bytes(stub) + Self.export(ctx)
        flags = Self.flags(s)
    }

    /// Syscalls newer than every one the profile names fail with ENOSYS
    /// unless the default lets them run anyway (allow, log, trace) or is
    /// ENOSYS already: runc's rule.
    static func wantsENOSYS(_ s: Seccomp) -> Bool {
        switch s.defaultAction {
        case .SCMP_ACT_ALLOW, .SCMP_ACT_LOG, .SCMP_ACT_TRACE: return false
        default: return s.defaultErrnoRet != UInt32(ENOSYS)
        }
    }

    /// seccomp(2)'s flags for the profile: its own, and a listener when it
    /// has SCMP_ACT_NOTIFY rules (TSYNC then reports a thread it cannot
    /// sync as ESRCH, the listener being the return value).
    static func flags(_ s: Seccomp) -> UInt32 {
        var out: UInt32 = notifies(s) ? FLAG_NEW_LISTENER : 0
        for flag in s.flags ?? [] {
            switch flag {
            case .SECCOMP_FILTER_FLAG_TSYNC: out |= FLAG_TSYNC | (notifies(s) ? FLAG_TSYNC_ESRCH : 0)
            case .SECCOMP_FILTER_FLAG_LOG: out |= FLAG_LOG
            case .SECCOMP_FILTER_FLAG_SPEC_ALLOW: out |= FLAG_SPEC_ALLOW
            case .SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: out |= FLAG_WAIT_KILLABLE_RECV
            }
        }
        return out
    }

    /// libseccomp's BPF program, through a memfd.
    private static func export(_ ctx: scmp_filter_ctx) throws -> [UInt8] {
        let memfd = apus_memfd("apus-seccomp")
        try ApusRuntime.check(memfd, "setting up seccomp", "memfd_create()")
        defer { close(memfd) }
        try check(seccomp_export_bpf(ctx, memfd), "seccomp_export_bpf()")
        lseek(memfd, 0, SEEK_SET)
        return try FS.readAll(memfd, path: "(seccomp program)")
    }

    /// Conditions on distinct arguments are ANDed in one rule; several on
    /// the same argument cannot be, so each becomes its own rule (ORed), as in runc.
    private static func add(_ ctx: scmp_filter_ctx, _ action: UInt32, _ nr: Int32, _ args: [SeccompArg], what: String) throws {
        let cmps = args.map { a in
            scmp_arg_cmp(arg: UInt32(a.index), op: Self.compare(a.op), datum_a: a.value, datum_b: a.valueTwo ?? 0)
        }
        let indices = Set(args.map { $0.index })
        let groups = indices.count == args.count ? [cmps] : cmps.map { [$0] }
        for group in groups {
            let rc = group.withUnsafeBufferPointer { buf in
                seccomp_rule_add_array(ctx, action, nr, UInt32(buf.count), buf.baseAddress)
            }
            try check(rc, "seccomp_rule_add(\(what))")
        }
    }

    // linux/seccomp.h
    static let FLAG_TSYNC: UInt32 = 1 << 0, FLAG_LOG: UInt32 = 1 << 1, FLAG_SPEC_ALLOW: UInt32 = 1 << 2
    static let FLAG_NEW_LISTENER: UInt32 = 1 << 3, FLAG_TSYNC_ESRCH: UInt32 = 1 << 4, FLAG_WAIT_KILLABLE_RECV: UInt32 = 1 << 5

    /// Loads the filter (once); with SCMP_ACT_NOTIFY rules, `listener` is
    /// then the notify fd seccomp(2) returned.
    func load() throws {
        guard !loaded else { return }
        guard program.count / 8 <= Self.maxInstructions else {
            throw RuntimeError.other("seccomp: the filter has \(program.count / 8) instructions, the kernel takes \(Self.maxInstructions)")
        }
        let fd = program.withUnsafeBytes { apus_seccomp_set_filter(flags, $0.baseAddress, UInt16($0.count / 8)) }
        try ApusRuntime.check(fd, "setting up seccomp", "seccomp(SECCOMP_SET_MODE_FILTER, \(flags))")
        if flags & Self.FLAG_NEW_LISTENER != 0 { listener = fd }
        loaded = true
    }

    /// BPF_MAXINSNS.
    static let maxInstructions = 4096

    /// The listener, now the caller's to close (nil if there is none).
    func takeListener() -> Int32? {
        guard listener >= 0 else { return nil }
        defer { listener = -1 }
        return listener
    }

    private static func check(_ rc: Int32, _ call: String) throws {
        if rc < 0 { throw RuntimeError.syscall(step: "setting up seccomp", call: call, errno: -rc) }
    }
}
