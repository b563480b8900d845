/// A problem with an input document, located by its JSON path:
/// `config.json: process.rlimits[1].type: unknown rlimit "RLIMIT_FOO"`.
public struct SpecError: Error, Equatable, CustomStringConvertible {
    public var file: String
    public var path: String
    public var message: String

    public init(_ message: String, at path: JSONPath, file: String = "config.json") {
        self.file = file
        self.path = path.description
        self.message = message
    }

    public var description: String {
        path.isEmpty ? "\(file): \(message)" : "\(file): \(path): \(message)"
    }
}

/// Where a value sits in a document, printed as `linux.sysctl["net.ipv4.ip_forward"]`
/// or `process.args[0]`.
public struct JSONPath: CustomStringConvertible, Equatable, Sendable {
    public private(set) var description: String
    public static let root = JSONPath(description: "")

    public func key(_ k: String) -> JSONPath {
        let plain = !k.isEmpty && k.utf8.allSatisfy { c in
            (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c == 0x5f
        }
        if plain { return JSONPath(description: description.isEmpty ? k : description + "." + k) }
        var quoted = ""
        JSONWriter.appendQuoted(k, to: &quoted)
        return JSONPath(description: description + "[" + quoted + "]")
    }

    public func index(_ i: Int) -> JSONPath { JSONPath(description: description + "[\(i)]") }

    public var isEmpty: Bool { description.isEmpty }
}

/// A type that maps to and from a JSON value, reporting errors by path.
public protocol JSONCodable {
    init(json: JSONValue, path: JSONPath) throws
    var json: JSONValue { get }
}

extension JSONCodable {
    /// Decodes a whole document, labelling errors with the file they came
    /// from; `prepare` may adjust the parsed tree first (defaults).
    public static func decode(_ bytes: [UInt8], file: String = "config.json",
                              prepare: (inout JSONValue) -> Void = { _ in }) throws -> Self {
        var value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch let e as JSONParseError {
            throw SpecError(e.message, at: .root, file: file)
        }
        prepare(&value)
        do { return try Self(json: value, path: .root) } catch var e as SpecError {
            e.file = file
            throw e
        }
    }
}

/// Reads the properties of one JSON object. Unknown properties are ignored
/// (the runtime spec requires it); a JSON `null` counts as absent, as in Go.
/// The readers are @inlinable so that decoders in other modules (the state
/// file's, read for every container by `list`) get them specialised, not
/// looking up generic metadata for every property.
public struct ObjectReader {
    public let object: JSONObject
    public let path: JSONPath

    @inlinable
    public init(_ json: JSONValue, path: JSONPath) throws {
        guard case .object(let o) = json else {
            throw SpecError("expected object, got \(json.typeName)", at: path)
        }
        self.object = o
        self.path = path
    }

    @inlinable
    public func optional<T: JSONCodable>(_ key: String, as _: T.Type = T.self) throws -> T? {
        guard let v = object[key], v != .null else { return nil }
        return try Self.decode(v, key, path)
    }

    @inlinable
    public func required<T: JSONCodable>(_ key: String, as _: T.Type = T.self) throws -> T {
        guard let v = object[key], v != .null else {
            throw SpecError("required property is missing", at: path.key(key))
        }
        return try Self.decode(v, key, path)
    }

    /// A string property needs no path unless it is not a string: the
    /// path is only spelled out where it can be needed.
    @inlinable
    static func decode<T: JSONCodable>(_ v: JSONValue, _ key: String, _ path: JSONPath) throws -> T {
        if T.self == String.self, case .string(let s) = v { return s as! T }
        return try T(json: v, path: path.key(key))
    }
}

/// Builds a JSON object in a fixed key order, leaving out absent optionals.
public struct ObjectBuilder {
    public private(set) var object = JSONObject()
    public init() {}

    public mutating func set<T: JSONCodable>(_ key: String, _ value: T?) {
        if let value { object.members.append((key, value.json)) }
    }

    public var json: JSONValue { .object(object) }
}

extension String: JSONCodable {
    @inlinable
    public init(json: JSONValue, path: JSONPath) throws {
        guard case .string(let s) = json else {
            throw SpecError("expected string, got \(json.typeName)", at: path)
        }
        self = s
    }
    public var json: JSONValue { .string(self) }
}

/// A ready-made value (reports built by hand, like `apus inspect`'s).
extension JSONValue: JSONCodable {
    public init(json: JSONValue, path: JSONPath) { self = json }
    public var json: JSONValue { self }
}

extension Bool: JSONCodable {
    @inlinable
    public init(json: JSONValue, path: JSONPath) throws {
        guard case .bool(let b) = json else {
            throw SpecError("expected boolean, got \(json.typeName)", at: path)
        }
        self = b
    }
    public var json: JSONValue { .bool(self) }
}

/// Integers are read from the literal text so that the whole range of each
/// Go type (uint64 rlimits, int64 limits) round-trips exactly.
public protocol JSONInteger: FixedWidthInteger, JSONCodable {}

extension JSONInteger {
    public init(json: JSONValue, path: JSONPath) throws {
        guard case .number(let text) = json else {
            throw SpecError("expected integer, got \(json.typeName)", at: path)
        }
        // Swift reads "-0" as an unsigned 0; Go's decoder (runc) refuses any sign there.
        if let v = Self(text), Self.isSigned || text.utf8.first != 0x2d { self = v; return }
        let isIntegral = text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2d }
        if !isIntegral { throw SpecError("expected integer, got \(text)", at: path) }
        throw SpecError("\(text) is out of range (\(Self.min)...\(Self.max))", at: path)
    }
    public var json: JSONValue { .number(String(self)) }
}

extension Int: JSONInteger {}
extension UInt: JSONInteger {}
extension Int64: JSONInteger {}
extension Int32: JSONInteger {}
extension UInt64: JSONInteger {}
extension UInt32: JSONInteger {}
extension UInt16: JSONInteger {}
extension UInt8: JSONInteger {}

extension Array: JSONCodable where Element: JSONCodable {
    public init(json: JSONValue, path: JSONPath) throws {
        guard case .array(let items) = json else {
            throw SpecError("expected array, got \(json.typeName)", at: path)
        }
        self = try items.enumerated().map { try Element(json: $1, path: path.index($0)) }
    }
    public var json: JSONValue { .array(map { $0.json }) }
}

/// JSON objects used as maps (annotations, sysctl, unified). Encoded with
/// sorted keys, as Go encodes maps.
extension Dictionary: JSONCodable where Key == String, Value: JSONCodable {
    @inlinable
    public init(json: JSONValue, path: JSONPath) throws {
        let reader = try ObjectReader(json, path: path)
        var d: [String: Value] = [:]
        d.reserveCapacity(reader.object.members.count)
        for m in reader.object.members {
            // String maps (state.json's cgroup and namespace paths, annotations):
            // the member's path is only spelled out for an error.
            if Value.self == String.self, case .string(let s) = m.value {
                d[m.key] = (s as! Value)
            } else {
                d[m.key] = try Value(json: m.value, path: path.key(m.key))
            }
        }
        self = d
    }
    public var json: JSONValue {
        // Members gathered by hand and sorted as [(String, JSONValue)]: the
        // generic `keys.sorted()` looks up Keys.Element at run time, a scan
        // of every protocol conformance in the binary (peak RSS).
        var members: [(String, JSONValue)] = []
        members.reserveCapacity(count)
        for (key, value) in self { members.append((key, value.json)) }
        members.sort { $0.0 < $1.0 }
        return .object(JSONObject(members))
    }
}

/// String-valued enumerations (namespace types, rlimits, seccomp actions).
/// An unknown value is an error naming what was expected.
public protocol JSONStringEnum: JSONCodable, RawRepresentable, CaseIterable where RawValue == String {
    /// Used in errors: `unknown <kind> "X"`.
    static var kind: String { get }
}

extension JSONStringEnum {
    public init(json: JSONValue, path: JSONPath) throws {
        let raw = try String(json: json, path: path)
        guard let v = Self(rawValue: raw) else {
            throw SpecError("unknown \(Self.kind) \(quoted(raw))", at: path)
        }
        self = v
    }
    public var json: JSONValue { .string(rawValue) }
}
