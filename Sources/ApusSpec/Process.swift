/// `process`: what the container runs and with which credentials and limits.
public struct Process: JSONCodable, Equatable {
    public var terminal: Bool?
    public var consoleSize: ConsoleSize?
    public var user: User
    public var args: [String]?
    /// Windows only; kept so a config round-trips.
    public var commandLine: String?
    public var env: [String]?
    public var cwd: String
    public var capabilities: LinuxCapabilities?
    public var rlimits: [POSIXRlimit]?
    public var noNewPrivileges: Bool?
    public var apparmorProfile: String?
    public var oomScoreAdj: Int?
    public var scheduler: Scheduler?
    public var selinuxLabel: String?
    public var ioPriority: IOPriority?
    public var execCPUAffinity: ExecCPUAffinity?

    public init(user: User = User(uid: 0, gid: 0), args: [String]? = nil, env: [String]? = nil, cwd: String = "/") {
        self.user = user
        self.args = args
        self.env = env
        self.cwd = cwd
    }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        terminal = try r.optional("terminal")
        consoleSize = try r.optional("consoleSize")
        user = try r.required("user")
        args = try r.optional("args")
        commandLine = try r.optional("commandLine")
        env = try r.optional("env")
        cwd = try r.required("cwd")
        capabilities = try r.optional("capabilities")
        rlimits = try r.optional("rlimits")
        noNewPrivileges = try r.optional("noNewPrivileges")
        apparmorProfile = try r.optional("apparmorProfile")
        oomScoreAdj = try r.optional("oomScoreAdj")
        scheduler = try r.optional("scheduler")
        selinuxLabel = try r.optional("selinuxLabel")
        ioPriority = try r.optional("ioPriority")
        execCPUAffinity = try r.optional("execCPUAffinity")
    }

    // Key order follows the Go struct so output matches runc's.
    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("terminal", terminal)
        b.set("consoleSize", consoleSize)
        b.set("user", user)
        b.set("args", args)
        b.set("commandLine", commandLine)
        b.set("env", env)
        b.set("cwd", cwd)
        b.set("capabilities", capabilities)
        b.set("rlimits", rlimits)
        b.set("noNewPrivileges", noNewPrivileges)
        b.set("apparmorProfile", apparmorProfile)
        b.set("oomScoreAdj", oomScoreAdj)
        b.set("scheduler", scheduler)
        b.set("selinuxLabel", selinuxLabel)
        b.set("ioPriority", ioPriority)
        b.set("execCPUAffinity", execCPUAffinity)
        return b.json
    }
}

extension Process {
    /// `exec -p process.json` as runc reads it: a missing `user` is Go's
    /// zero value, root (0:0); everything else as in config.json.
    public static func decodeForExec(_ bytes: [UInt8], file: String) throws -> Process {
        try decode(bytes, file: file) { value in
            guard case .object(var o) = value, o["user"] == nil || o["user"] == .null else { return }
            o["user"] = User(uid: 0, gid: 0).json
            value = .object(o)
        }
    }
}

/// `process.user` (POSIX). `username` is Windows-only but kept for round-trips.
public struct User: JSONCodable, Equatable {
    public var uid: UInt32
    public var gid: UInt32
    public var umask: UInt32?
    public var additionalGids: [UInt32]?
    public var username: String?

    public init(uid: UInt32, gid: UInt32, umask: UInt32? = nil, additionalGids: [UInt32]? = nil) {
        self.uid = uid
        self.gid = gid
        self.umask = umask
        self.additionalGids = additionalGids
    }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        uid = try r.required("uid")
        gid = try r.required("gid")
        umask = try r.optional("umask")
        additionalGids = try r.optional("additionalGids")
        username = try r.optional("username")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("uid", uid)
        b.set("gid", gid)
        b.set("umask", umask)
        b.set("additionalGids", additionalGids)
        b.set("username", username)
        return b.json
    }
}

/// `process.consoleSize`, in characters.
public struct ConsoleSize: JSONCodable, Equatable {
    public var height: UInt
    public var width: UInt

    public init(height: UInt, width: UInt) { self.height = height; self.width = width }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        height = try r.required("height")
        width = try r.required("width")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("height", height)
        b.set("width", width)
        return b.json
    }
}

/// `process.capabilities`: the five capability sets.
public struct LinuxCapabilities: JSONCodable, Equatable {
    public var bounding: [Capability]?
    public var effective: [Capability]?
    public var inheritable: [Capability]?
    public var permitted: [Capability]?
    public var ambient: [Capability]?

    public init(bounding: [Capability]? = nil, effective: [Capability]? = nil, inheritable: [Capability]? = nil,
                permitted: [Capability]? = nil, ambient: [Capability]? = nil) {
        self.bounding = bounding
        self.effective = effective
        self.inheritable = inheritable
        self.permitted = permitted
        self.ambient = ambient
    }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        bounding = try r.optional("bounding")
        effective = try r.optional("effective")
        inheritable = try r.optional("inheritable")
        permitted = try r.optional("permitted")
        ambient = try r.optional("ambient")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("bounding", bounding)
        b.set("effective", effective)
        b.set("inheritable", inheritable)
        b.set("permitted", permitted)
        b.set("ambient", ambient)
        return b.json
    }
}

/// `process.ioPriority`, applied with ioprio_set(2).
public struct IOPriority: JSONCodable, Equatable {
    /// JSON key `class`, a Swift keyword; also reachable as `` `class` ``.
    public var class_: IOPriorityClass
    public var priority: Int

    public var `class`: IOPriorityClass {
        get { class_ }
        set { class_ = newValue }
    }

    public init(class: IOPriorityClass, priority: Int) { self.class_ = `class`; self.priority = priority }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        class_ = try r.required("class")
        priority = try r.required("priority")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("class", class_)
        b.set("priority", priority)
        return b.json
    }
}

public enum IOPriorityClass: String, JSONStringEnum {
    case IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE

    public static var kind: String { "i/o priority class" }

    /// The kernel's IOPRIO_CLASS_* value (include/uapi/linux/ioprio.h).
    public var value: Int32 {
        switch self {
        case .IOPRIO_CLASS_RT: return 1
        case .IOPRIO_CLASS_BE: return 2
        case .IOPRIO_CLASS_IDLE: return 3
        }
    }
}

/// `process.execCPUAffinity`: CPU lists for `exec`ed processes, before and
/// after they join the container's cgroup (see `CPUList`).
public struct ExecCPUAffinity: JSONCodable, Equatable {
    public var initial: String?
    public var `final`: String?

    public init(initial: String? = nil, final: String? = nil) { self.initial = initial; self.final = `final` }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        initial = try r.optional("initial")
        `final` = try r.optional("final")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("initial", initial)
        b.set("final", `final`)
        return b.json
    }
}
