/// `linux.resources.blockIO` (blkio in cgroup v1, io in v2).
public struct BlockIOResources: JSONCodable, Equatable {
    public var weight: UInt16?
    public var leafWeight: UInt16?
    public var weightDevice: [WeightDevice]?
    public var throttleReadBpsDevice: [ThrottleDevice]?
    public var throttleWriteBpsDevice: [ThrottleDevice]?
    public var throttleReadIOPSDevice: [ThrottleDevice]?
    public var throttleWriteIOPSDevice: [ThrottleDevice]?

    public init(weight: UInt16? = nil, leafWeight: UInt16? = nil) {
        self.weight = weight
        self.leafWeight = leafWeight
    }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        weight = try r.optional("weight")
        leafWeight = try r.optional("leafWeight")
        weightDevice = try r.optional("weightDevice")
        throttleReadBpsDevice = try r.optional("throttleReadBpsDevice")
        throttleWriteBpsDevice = try r.optional("throttleWriteBpsDevice")
        throttleReadIOPSDevice = try r.optional("throttleReadIOPSDevice")
        throttleWriteIOPSDevice = try r.optional("throttleWriteIOPSDevice")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("weight", weight)
        b.set("leafWeight", leafWeight)
        b.set("weightDevice", weightDevice)
        b.set("throttleReadBpsDevice", throttleReadBpsDevice)
        b.set("throttleWriteBpsDevice", throttleWriteBpsDevice)
        b.set("throttleReadIOPSDevice", throttleReadIOPSDevice)
        b.set("throttleWriteIOPSDevice", throttleWriteIOPSDevice)
        return b.json
    }
}

/// A per-device weight; at least one of `weight`/`leafWeight` must be set.
public struct WeightDevice: JSONCodable, Equatable {
    public var major: Int64
    public var minor: Int64
    public var weight: UInt16?
    public var leafWeight: UInt16?

    public init(major: Int64, minor: Int64, weight: UInt16? = nil, leafWeight: UInt16? = nil) {
        self.major = major
        self.minor = minor
        self.weight = weight
        self.leafWeight = leafWeight
    }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        major = try r.required("major")
        minor = try r.required("minor")
        weight = try r.optional("weight")
        leafWeight = try r.optional("leafWeight")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("major", major)
        b.set("minor", minor)
        b.set("weight", weight)
        b.set("leafWeight", leafWeight)
        return b.json
    }
}

/// A per-device rate limit (bytes or operations per second).
public struct ThrottleDevice: JSONCodable, Equatable {
    public var major: Int64
    public var minor: Int64
    public var rate: UInt64

    public init(major: Int64, minor: Int64, rate: UInt64) {
        self.major = major
        self.minor = minor
        self.rate = rate
    }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        major = try r.required("major")
        minor = try r.required("minor")
        rate = try r.required("rate")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("major", major)
        b.set("minor", minor)
        b.set("rate", rate)
        return b.json
    }
}
