import ApusSpec

/// What Apus keeps about one container in `<root>/<id>/state.json`. This is
/// Apus's own format (the OCI state is derived from it); it holds what later
/// commands need without re-reading the bundle, which may have changed.
public struct ContainerRecord: JSONCodable, Equatable {
    public var id: String
    public var pid: Int32
    /// /proc/PID/stat start time, to tell our init from a process that reused its pid.
    public var pidStartTime: UInt64
    public var bundle: String
    public var rootfs: String
    public var created: String
    public var owner: String
    public var annotations: [String: String]?
    /// Controller (or "unified") → absolute cgroup directory.
    public var cgroupPaths: [String: String]
    /// Namespace /proc name → path of the namespace the container uses, for exec and inspect.
    public var namespacePaths: [String: String]
    /// Lets `delete` skip reading the saved config when there is no hook to run.
    public var hasPoststopHooks: Bool

    public init(id: String, bundle: String, rootfs: String, created: String, annotations: [String: String]?) {
        self.id = id
        self.pid = 0
        self.pidStartTime = 0
        self.bundle = bundle
        self.rootfs = rootfs
        self.created = created
        self.owner = ""
        self.annotations = annotations
        self.cgroupPaths = [:]
        self.namespacePaths = [:]
        self.hasPoststopHooks = false
    }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        id = try r.required("id")
        pid = try r.required("pid")
        pidStartTime = try r.required("pidStartTime")
        bundle = try r.required("bundle")
        rootfs = try r.required("rootfs")
        created = try r.required("created")
        owner = try r.optional("owner") ?? ""
        annotations = try r.optional("annotations")
        cgroupPaths = try r.optional("cgroupPaths") ?? [:]
        namespacePaths = try r.optional("namespacePaths") ?? [:]
        hasPoststopHooks = try r.optional("hasPoststopHooks") ?? false
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("id", id)
        b.set("pid", pid)
        b.set("pidStartTime", pidStartTime)
        b.set("bundle", bundle)
        b.set("rootfs", rootfs)
        b.set("created", created)
        b.set("owner", owner)
        b.set("annotations", annotations)
        b.set("cgroupPaths", cgroupPaths)
        b.set("namespacePaths", namespacePaths)
        b.set("hasPoststopHooks", hasPoststopHooks)
        return b.json
    }
}
