/// A Linux capability by its `capabilities(7)` name. Cases are listed in
/// kernel order, so a case's position is its number (include/uapi/linux/capability.h,
/// CAP_LAST_CAP = 40 = CAP_CHECKPOINT_RESTORE since Linux 5.9).
public enum Capability: String, JSONStringEnum {
    case CAP_CHOWN // 0
    case CAP_DAC_OVERRIDE // 1
    case CAP_DAC_READ_SEARCH // 2
    case CAP_FOWNER // 3
    case CAP_FSETID // 4
    case CAP_KILL // 5
    case CAP_SETGID // 6
    case CAP_SETUID // 7
    case CAP_SETPCAP // 8
    case CAP_LINUX_IMMUTABLE // 9
    case CAP_NET_BIND_SERVICE // 10
    case CAP_NET_BROADCAST // 11
    case CAP_NET_ADMIN // 12
    case CAP_NET_RAW // 13
    case CAP_IPC_LOCK // 14
    case CAP_IPC_OWNER // 15
    case CAP_SYS_MODULE // 16
    case CAP_SYS_RAWIO // 17
    case CAP_SYS_CHROOT // 18
    case CAP_SYS_PTRACE // 19
    case CAP_SYS_PACCT // 20
    case CAP_SYS_ADMIN // 21
    case CAP_SYS_BOOT // 22
    case CAP_SYS_NICE // 23
    case CAP_SYS_RESOURCE // 24
    case CAP_SYS_TIME // 25
    case CAP_SYS_TTY_CONFIG // 26
    case CAP_MKNOD // 27
    case CAP_LEASE // 28
    case CAP_AUDIT_WRITE // 29
    case CAP_AUDIT_CONTROL // 30
    case CAP_SETFCAP // 31
    case CAP_MAC_OVERRIDE // 32
    case CAP_MAC_ADMIN // 33
    case CAP_SYSLOG // 34
    case CAP_WAKE_ALARM // 35
    case CAP_BLOCK_SUSPEND // 36
    case CAP_AUDIT_READ // 37
    case CAP_PERFMON // 38
    case CAP_BPF // 39
    case CAP_CHECKPOINT_RESTORE // 40

    public static var kind: String { "capability" }

    /// The kernel's capability number, for capget/capset and prctl.
    public var number: Int32 { Capability.numbers[self]! }

    private static let numbers: [Capability: Int32] =
        Dictionary(uniqueKeysWithValues: allCases.enumerated().map { ($0.element, Int32($0.offset)) })

    /// Looks a capability up by its kernel number.
    public init?(number: Int32) {
        guard number >= 0, Int(number) < Capability.allCases.count else { return nil }
        self = Capability.allCases[Int(number)]
    }

    /// The highest capability number this model knows (CAP_LAST_CAP).
    public static let last: Int32 = 40
}
