/// `process.scheduler`, applied with sched_setattr(2).
public struct Scheduler: JSONCodable, Equatable {
    public var policy: SchedulerPolicy
    public var nice: Int32?
    public var priority: Int32?
    /// `SCHED_FLAG_*` names; `SchedulerFlag` maps them, validation rejects unknown ones.
    public var flags: [String]?
    public var runtime: UInt64?
    public var deadline: UInt64?
    public var period: UInt64?

    public init(policy: SchedulerPolicy) { self.policy = policy }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        policy = try r.required("policy")
        nice = try r.optional("nice")
        priority = try r.optional("priority")
        flags = try r.optional("flags")
        runtime = try r.optional("runtime")
        deadline = try r.optional("deadline")
        period = try r.optional("period")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("policy", policy)
        b.set("nice", nice)
        b.set("priority", priority)
        b.set("flags", flags)
        b.set("runtime", runtime)
        b.set("deadline", deadline)
        b.set("period", period)
        return b.json
    }
}

public enum SchedulerPolicy: String, JSONStringEnum {
    case SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_ISO, SCHED_IDLE, SCHED_DEADLINE

    public static var kind: String { "scheduler policy" }

    /// The kernel's policy number (include/uapi/linux/sched.h).
    public var value: UInt32 {
        switch self {
        case .SCHED_OTHER: return 0
        case .SCHED_FIFO: return 1
        case .SCHED_RR: return 2
        case .SCHED_BATCH: return 3
        case .SCHED_ISO: return 4
        case .SCHED_IDLE: return 5
        case .SCHED_DEADLINE: return 6
        }
    }
}

/// The `SCHED_FLAG_*` names the spec allows in `process.scheduler.flags`.
public enum SchedulerFlag: String, JSONStringEnum {
    case SCHED_FLAG_RESET_ON_FORK, SCHED_FLAG_RECLAIM, SCHED_FLAG_DL_OVERRUN, SCHED_FLAG_KEEP_POLICY
    case SCHED_FLAG_KEEP_PARAMS, SCHED_FLAG_UTIL_CLAMP_MIN, SCHED_FLAG_UTIL_CLAMP_MAX

    public static var kind: String { "scheduler flag" }

    /// The kernel's `sched_attr.sched_flags` bit (include/uapi/linux/sched.h).
    public var value: UInt64 {
        switch self {
        case .SCHED_FLAG_RESET_ON_FORK: return 0x01
        case .SCHED_FLAG_RECLAIM: return 0x02
        case .SCHED_FLAG_DL_OVERRUN: return 0x04
        case .SCHED_FLAG_KEEP_POLICY: return 0x08
        case .SCHED_FLAG_KEEP_PARAMS: return 0x10
        case .SCHED_FLAG_UTIL_CLAMP_MIN: return 0x20
        case .SCHED_FLAG_UTIL_CLAMP_MAX: return 0x40
        }
    }
}
