/// The OCI runtime state (runtime.md "State", schema/state-schema.json): what
/// hooks read on stdin and what a seccomp agent receives inside
/// `ContainerProcessState`.
public struct ContainerState: JSONCodable, Equatable {
    public var ociVersion: String
    public var id: String
    /// "creating", "created", "running" or "stopped" (see `ContainerStatus`).
    public var status: String
    /// Absent once the process is gone (Go's omitempty drops a zero pid too).
    public var pid: Int?
    public var bundle: String
    public var annotations: [String: String]?

    public init(ociVersion: String, id: String, status: String, pid: Int? = nil, bundle: String,
                annotations: [String: String]? = nil) {
        self.ociVersion = ociVersion
        self.id = id
        self.status = status
        self.pid = pid
        self.bundle = bundle
        self.annotations = annotations
    }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        ociVersion = try r.required("ociVersion")
        id = try r.required("id")
        status = try r.required("status")
        pid = try r.optional("pid")
        bundle = try r.required("bundle")
        annotations = try r.optional("annotations")
    }

    // Key order follows specs-go State so hook input matches runc's.
    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("ociVersion", ociVersion)
        b.set("id", id)
        b.set("status", status)
        b.set("pid", pid == 0 ? nil : pid)
        b.set("bundle", bundle)
        b.set("annotations", annotations?.isEmpty == true ? nil : annotations)
        return b.json
    }
}

/// The values `ContainerState.status` may take.
public enum ContainerStatus: String, JSONStringEnum {
    case creating, created, running, stopped

    public static var kind: String { "container status" }
}

/// What the runtime sends to `linux.seccomp.listenerPath` along with the
/// seccomp notify fd (config-linux.md "The Container Process State").
public struct ContainerProcessState: JSONCodable, Equatable {
    public var ociVersion: String
    /// Names of the fds passed with SCM_RIGHTS, in order ("seccompFd").
    public var fds: [String]
    public var pid: Int
    public var metadata: String?
    public var state: ContainerState

    public static let seccompFdName = "seccompFd"

    public init(ociVersion: String, fds: [String], pid: Int, metadata: String? = nil, state: ContainerState) {
        self.ociVersion = ociVersion
        self.fds = fds
        self.pid = pid
        self.metadata = metadata
        self.state = state
    }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        ociVersion = try r.required("ociVersion")
        fds = try r.required("fds")
        pid = try r.required("pid")
        metadata = try r.optional("metadata")
        state = try r.required("state")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("ociVersion", ociVersion)
        b.set("fds", fds)
        b.set("pid", pid)
        b.set("metadata", metadata?.isEmpty == true ? nil : metadata)
        b.set("state", state)
        return b.json
    }
}
