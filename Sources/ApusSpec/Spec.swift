/// The runtime-spec v1.2 `config.json` (Linux). Property names follow the
/// JSON names; every optional property stays `nil` when absent so that
/// decoding and re-encoding a config loses nothing the spec defines.
public struct Spec: JSONCodable, Equatable {
    public var ociVersion: String
    public var root: Root?
    public var mounts: [Mount]?
    public var process: Process?
    public var hostname: String?
    public var domainname: String?
    public var hooks: Hooks?
    public var annotations: [String: String]?
    public var linux: Linux?

    public init(ociVersion: String) { self.ociVersion = ociVersion }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        ociVersion = try r.required("ociVersion")
        root = try r.optional("root")
        mounts = try r.optional("mounts")
        process = try r.optional("process")
        hostname = try r.optional("hostname")
        domainname = try r.optional("domainname")
        hooks = try r.optional("hooks")
        annotations = try r.optional("annotations")
        linux = try r.optional("linux")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("ociVersion", ociVersion)
        b.set("process", process)
        b.set("root", root)
        b.set("hostname", hostname)
        b.set("domainname", domainname)
        b.set("mounts", mounts)
        b.set("hooks", hooks)
        b.set("annotations", annotations)
        b.set("linux", linux)
        return b.json
    }
}

public struct Root: JSONCodable, Equatable {
    public var path: String
    public var readonly: Bool?

    public init(path: String, readonly: Bool? = nil) { self.path = path; self.readonly = readonly }

    public init(json: JSONValue, path p: JSONPath) throws {
        let r = try ObjectReader(json, path: p)
        path = try r.required("path")
        readonly = try r.optional("readonly")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("path", path)
        b.set("readonly", readonly)
        return b.json
    }
}

public struct Mount: JSONCodable, Equatable {
    public var destination: String
    public var type: String?
    public var source: String?
    public var options: [String]?
    public var uidMappings: [IDMapping]?
    public var gidMappings: [IDMapping]?

    public init(destination: String, type: String? = nil, source: String? = nil, options: [String]? = nil) {
        self.destination = destination
        self.type = type
        self.source = source
        self.options = options
    }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        destination = try r.required("destination")
        type = try r.optional("type")
        source = try r.optional("source")
        options = try r.optional("options")
        uidMappings = try r.optional("uidMappings")
        gidMappings = try r.optional("gidMappings")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("destination", destination)
        b.set("type", type)
        b.set("source", source)
        b.set("options", options)
        b.set("uidMappings", uidMappings)
        b.set("gidMappings", gidMappings)
        return b.json
    }
}

/// `linux.uidMappings`, `linux.gidMappings` and the per-mount mappings.
public struct IDMapping: JSONCodable, Equatable {
    public var containerID: UInt32
    public var hostID: UInt32
    public var size: UInt32

    public init(containerID: UInt32, hostID: UInt32, size: UInt32) {
        self.containerID = containerID
        self.hostID = hostID
        self.size = size
    }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        containerID = try r.required("containerID")
        hostID = try r.required("hostID")
        size = try r.required("size")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("containerID", containerID)
        b.set("hostID", hostID)
        b.set("size", size)
        return b.json
    }
}

public struct Hooks: JSONCodable, Equatable {
    public var prestart: [Hook]?
    public var createRuntime: [Hook]?
    public var createContainer: [Hook]?
    public var startContainer: [Hook]?
    public var poststart: [Hook]?
    public var poststop: [Hook]?

    public init() {}

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        prestart = try r.optional("prestart")
        createRuntime = try r.optional("createRuntime")
        createContainer = try r.optional("createContainer")
        startContainer = try r.optional("startContainer")
        poststart = try r.optional("poststart")
        poststop = try r.optional("poststop")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("prestart", prestart)
        b.set("createRuntime", createRuntime)
        b.set("createContainer", createContainer)
        b.set("startContainer", startContainer)
        b.set("poststart", poststart)
        b.set("poststop", poststop)
        return b.json
    }
}

public struct Hook: JSONCodable, Equatable {
    public var path: String
    public var args: [String]?
    public var env: [String]?
    public var timeout: Int?

    public init(path: String, args: [String]? = nil, env: [String]? = nil, timeout: Int? = nil) {
        self.path = path
        self.args = args
        self.env = env
        self.timeout = timeout
    }

    public init(json: JSONValue, path p: JSONPath) throws {
        let r = try ObjectReader(json, path: p)
        path = try r.required("path")
        args = try r.optional("args")
        env = try r.optional("env")
        timeout = try r.optional("timeout")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("path", path)
        b.set("args", args)
        b.set("env", env)
        b.set("timeout", timeout)
        return b.json
    }
}
