/// `linux.intelRdt`: resctrl CLOS and schemata. Carries both the v1.2 fields
/// (`enableCMT`, `enableMBM`) and their v1.3 replacement (`enableMonitoring`)
/// so configs of either version round-trip.
public struct IntelRdt: JSONCodable, Equatable {
    public var closID: String?
    public var schemata: [String]?
    public var l3CacheSchema: String?
    public var memBwSchema: String?
    public var enableMonitoring: Bool?
    public var enableCMT: Bool?
    public var enableMBM: Bool?

    public init(closID: String? = nil) { self.closID = closID }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        closID = try r.optional("closID")
        schemata = try r.optional("schemata")
        l3CacheSchema = try r.optional("l3CacheSchema")
        memBwSchema = try r.optional("memBwSchema")
        enableMonitoring = try r.optional("enableMonitoring")
        enableCMT = try r.optional("enableCMT")
        enableMBM = try r.optional("enableMBM")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("closID", closID)
        b.set("schemata", schemata)
        b.set("l3CacheSchema", l3CacheSchema)
        b.set("memBwSchema", memBwSchema)
        b.set("enableMonitoring", enableMonitoring)
        b.set("enableCMT", enableCMT)
        b.set("enableMBM", enableMBM)
        return b.json
    }
}
