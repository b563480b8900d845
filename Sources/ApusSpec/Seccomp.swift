/// `linux.seccomp`: the filter, in libseccomp's vocabulary.
public struct Seccomp: JSONCodable, Equatable {
    public var defaultAction: SeccompAction
    public var defaultErrnoRet: UInt32?
    public var architectures: [SeccompArch]?
    /// Absent and empty differ: runc adds SPEC_ALLOW by default only when absent.
    public var flags: [SeccompFlag]?
    public var listenerPath: String?
    public var listenerMetadata: String?
    public var syscalls: [SeccompSyscall]?

    public init(defaultAction: SeccompAction, syscalls: [SeccompSyscall]? = nil) {
        self.defaultAction = defaultAction
        self.syscalls = syscalls
    }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        defaultAction = try r.required("defaultAction")
        defaultErrnoRet = try r.optional("defaultErrnoRet")
        architectures = try r.optional("architectures")
        flags = try r.optional("flags")
        listenerPath = try r.optional("listenerPath")
        listenerMetadata = try r.optional("listenerMetadata")
        syscalls = try r.optional("syscalls")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("defaultAction", defaultAction)
        b.set("defaultErrnoRet", defaultErrnoRet)
        b.set("architectures", architectures)
        b.set("flags", flags)
        b.set("listenerPath", listenerPath)
        b.set("listenerMetadata", listenerMetadata)
        b.set("syscalls", syscalls)
        return b.json
    }
}

/// One rule of `linux.seccomp.syscalls`.
public struct SeccompSyscall: JSONCodable, Equatable {
    public var names: [String]
    public var action: SeccompAction
    public var errnoRet: UInt32?
    public var args: [SeccompArg]?

    public init(names: [String], action: SeccompAction, errnoRet: UInt32? = nil, args: [SeccompArg]? = nil) {
        self.names = names
        self.action = action
        self.errnoRet = errnoRet
        self.args = args
    }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        names = try r.required("names")
        action = try r.required("action")
        errnoRet = try r.optional("errnoRet")
        args = try r.optional("args")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("names", names)
        b.set("action", action)
        b.set("errnoRet", errnoRet)
        b.set("args", args)
        return b.json
    }
}

/// An argument comparison; `index` is the syscall argument number (0...5).
public struct SeccompArg: JSONCodable, Equatable {
    public var index: UInt
    public var value: UInt64
    public var valueTwo: UInt64?
    public var op: SeccompOperator

    public init(index: UInt, value: UInt64, valueTwo: UInt64? = nil, op: SeccompOperator) {
        self.index = index
        self.value = value
        self.valueTwo = valueTwo
        self.op = op
    }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        index = try r.required("index")
        value = try r.required("value")
        valueTwo = try r.optional("valueTwo")
        op = try r.required("op")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("index", index)
        b.set("value", value)
        b.set("valueTwo", valueTwo)
        b.set("op", op)
        return b.json
    }
}

public enum SeccompAction: String, JSONStringEnum {
    case SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_ERRNO
    case SCMP_ACT_TRACE, SCMP_ACT_ALLOW, SCMP_ACT_LOG, SCMP_ACT_NOTIFY

    public static var kind: String { "seccomp action" }

    /// Only these actions carry a return code (`errnoRet`, `defaultErrnoRet`).
    public var takesErrno: Bool { self == .SCMP_ACT_ERRNO || self == .SCMP_ACT_TRACE }
}

/// The architectures the spec lists (libseccomp v2.6.0 names).
public enum SeccompArch: String, JSONStringEnum {
    case SCMP_ARCH_X86, SCMP_ARCH_X86_64, SCMP_ARCH_X32, SCMP_ARCH_ARM, SCMP_ARCH_AARCH64
    case SCMP_ARCH_MIPS, SCMP_ARCH_MIPS64, SCMP_ARCH_MIPS64N32
    case SCMP_ARCH_MIPSEL, SCMP_ARCH_MIPSEL64, SCMP_ARCH_MIPSEL64N32
    case SCMP_ARCH_PPC, SCMP_ARCH_PPC64, SCMP_ARCH_PPC64LE, SCMP_ARCH_S390, SCMP_ARCH_S390X
    case SCMP_ARCH_PARISC, SCMP_ARCH_PARISC64, SCMP_ARCH_RISCV64, SCMP_ARCH_LOONGARCH64
    case SCMP_ARCH_M68K, SCMP_ARCH_SH, SCMP_ARCH_SHEB

    public static var kind: String { "seccomp architecture" }
}

public enum SeccompFlag: String, JSONStringEnum {
    case SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_FILTER_FLAG_LOG, SECCOMP_FILTER_FLAG_SPEC_ALLOW
    case SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV

    public static var kind: String { "seccomp flag" }

    /// The seccomp(2) flag bit (include/uapi/linux/seccomp.h).
    public var value: UInt32 {
        switch self {
        case .SECCOMP_FILTER_FLAG_TSYNC: return 1 << 0
        case .SECCOMP_FILTER_FLAG_LOG: return 1 << 1
        case .SECCOMP_FILTER_FLAG_SPEC_ALLOW: return 1 << 2
        case .SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: return 1 << 5
        }
    }
}

public enum SeccompOperator: String, JSONStringEnum {
    case SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ

    public static var kind: String { "seccomp operator" }
}
