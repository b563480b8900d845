/// The D-Bus wire format, for the handful of calls the systemd cgroup
/// driver makes (StartTransientUnit, StopUnit, SetUnitProperties, GetUnit,
/// Properties.Get, the JobRemoved signal): values, their signatures, and
/// the marshalling of whole messages. Pure: no I/O (DBusConnection.swift
/// does that), so it is tested byte for byte without a bus.
public indirect enum DBusValue: Equatable {
    case byte(UInt8)
    case bool(Bool)
    case int32(Int32)
    case uint32(UInt32)
    case int64(Int64)
    case uint64(UInt64)
    case double(UInt64)  // kept as its bits: nothing here computes with it
    case string(String)
    case objectPath(String)
    case signature(String)
    /// `element` is the element's signature (needed for an empty array).
    case array(element: String, [DBusValue])
    case structure([DBusValue])
    case variant(DBusValue)
    case dictEntry(DBusValue, DBusValue)

    public var signature: String {
        switch self {
        case .byte: return "y"
        case .bool: return "b"
        case .int32: return "i"
        case .uint32: return "u"
        case .int64: return "x"
        case .uint64: return "t"
        case .double: return "d"
        case .string: return "s"
        case .objectPath: return "o"
        case .signature: return "g"
        case .array(let element, _): return "a" + element
        case .structure(let fields): return "(" + fields.map(\.signature).joined() + ")"
        case .variant: return "v"
        case .dictEntry(let k, let v): return "{" + k.signature + v.signature + "}"
        }
    }

    public var string: String? {
        switch self {
        case .string(let s), .objectPath(let s), .signature(let s): return s
        default: return nil
        }
    }

    public var uint64: UInt64? {
        switch self {
        case .uint64(let v): return v
        case .uint32(let v): return UInt64(v)
        case .byte(let v): return UInt64(v)
        default: return nil
        }
    }

    /// A unit property (`(sv)`), the element of systemd's `a(sv)`.
    public static func property(_ name: String, _ value: DBusValue) -> DBusValue {
        .structure([.string(name), .variant(value)])
    }
}

public enum DBusError: Error, Equatable, CustomStringConvertible {
    /// The peer sent bytes that are not a valid message (or not the one expected).
    case malformed(String)
    /// An error reply: its name (org.freedesktop.systemd1.NoSuchUnit) and message.
    case reply(name: String, message: String)

    public var description: String {
        switch self {
        case .malformed(let why): return "malformed D-Bus message: \(why)"
        case .reply(let name, let message): return message.isEmpty ? name : "\(message) (\(name))"
        }
    }
}

public struct DBusMessage: Equatable {
    public enum Kind: UInt8 { case methodCall = 1, methodReturn = 2, error = 3, signal = 4 }

    public var kind: Kind
    public var flags: UInt8 = 0
    public var serial: UInt32 = 0
    public var path: String?
    public var interface: String?
    public var member: String?
    public var errorName: String?
    public var replySerial: UInt32?
    public var destination: String?
    public var sender: String?
    public var body: [DBusValue] = []

    public init(kind: Kind) { self.kind = kind }

    public static func call(destination: String?, path: String, interface: String, member: String,
                            _ body: [DBusValue] = []) -> DBusMessage {
        var m = DBusMessage(kind: .methodCall)
        m.destination = destination
        m.path = path
        m.interface = interface
        m.member = member
        m.body = body
        return m
    }

    public var bodySignature: String { body.map(\.signature).joined() }

    /// Largest message accepted from the peer: what systemd sends here is a
    /// few hundred bytes; the spec's own limit is 128 MiB.
    static let maxLength = 1 << 24

    /// The message as little-endian bytes (protocol version 1).
    public func encode() -> [UInt8] {
        var fields: [DBusValue] = []
        func field(_ code: UInt8, _ v: DBusValue?) {
            if let v { fields.append(.structure([.byte(code), .variant(v)])) }
        }
        field(1, path.map(DBusValue.objectPath))
        field(2, interface.map(DBusValue.string))
        field(3, member.map(DBusValue.string))
        field(4, errorName.map(DBusValue.string))
        field(5, replySerial.map(DBusValue.uint32))
        field(6, destination.map(DBusValue.string))
        field(7, sender.map(DBusValue.string))
        if !body.isEmpty { field(8, .signature(bodySignature)) }
        var b = DBusWriter()
        for v in body { b.write(v) }
        var h = DBusWriter()
        h.write(.byte(UInt8(ascii: "l")))
        h.write(.byte(kind.rawValue))
        h.write(.byte(flags))
        h.write(.byte(1))
        h.write(.uint32(UInt32(b.bytes.count)))
        h.write(.uint32(serial))
        h.write(.array(element: "(yv)", fields))
        h.align(8)
        return h.bytes + b.bytes
    }

    /// How long the message starting with these bytes is (header and body),
    /// once its 16 fixed bytes are there; nil if fewer are.
    public static func length(prefix: ArraySlice<UInt8>) throws -> Int? {
        guard prefix.count >= 16 else { return nil }
        var r = try DBusReader(prefix.prefix(16), bigEndian: endianness(prefix.first!))
        r.offset = 4
        let bodyLength = Int(try r.uint32())
        r.offset = 12
        let fieldsLength = Int(try r.uint32())
        guard bodyLength <= maxLength, fieldsLength <= maxLength else { throw DBusError.malformed("message too long") }
        let total = ((16 + fieldsLength + 7) & ~7) + bodyLength
        guard total <= maxLength else { throw DBusError.malformed("message too long") }
        return total
    }

    static func endianness(_ b: UInt8) throws -> Bool {
        switch b {
        case UInt8(ascii: "l"): return false
        case UInt8(ascii: "B"): return true
        default: throw DBusError.malformed("bad endianness byte \(b)")
        }
    }

    /// Parses exactly one whole message.
    public static func decode(_ bytes: [UInt8]) throws -> DBusMessage {
        guard let total = try length(prefix: bytes[...]), total == bytes.count else {
            throw DBusError.malformed("truncated message (\(bytes.count) bytes)")
        }
        var r = try DBusReader(bytes[...], bigEndian: endianness(bytes[0]))
        r.offset = 1
        guard case .byte(let k) = try r.read("y"), let kind = Kind(rawValue: k) else {
            throw DBusError.malformed("unknown message type")
        }
        var m = DBusMessage(kind: kind)
        guard case .byte(let flags) = try r.read("y"), case .byte(let version) = try r.read("y"), version == 1 else {
            throw DBusError.malformed("unsupported protocol version")
        }
        m.flags = flags
        guard case .uint32(let bodyLength) = try r.read("u"), case .uint32(let serial) = try r.read("u"),
              case .array(_, let fields) = try r.read("a(yv)") else { throw DBusError.malformed("bad header") }
        m.serial = serial
        var signature = ""
        for f in fields {
            guard case .structure(let pair) = f, case .byte(let code) = pair[0], case .variant(let v) = pair[1] else { continue }
            func want(_ sig: String) throws -> String {
                guard v.signature == sig, let s = v.string else { throw DBusError.malformed("header field \(code) has type \(v.signature)") }
                return s
            }
            switch code {
            case 1: m.path = try want("o")
            case 2: m.interface = try want("s")
            case 3: m.member = try want("s")
            case 4: m.errorName = try want("s")
            case 5:
                guard case .uint32(let s) = v else { throw DBusError.malformed("reply serial has type \(v.signature)") }
                m.replySerial = s
            case 6: m.destination = try want("s")
            case 7: m.sender = try want("s")
            case 8: signature = try want("g")
            default: continue  // unknown fields are ignored, as the spec says
            }
        }
        try r.align(8)
        guard bytes.count - r.offset == Int(bodyLength) else { throw DBusError.malformed("body length mismatch") }
        r.base = r.offset  // the body's alignment counts from its start (itself 8-aligned)
        for sig in try DBusSignature.split(signature) { m.body.append(try r.read(sig)) }
        guard r.offset == bytes.count else { throw DBusError.malformed("trailing bytes after the body") }
        switch kind {
        case .methodCall: guard m.path != nil, m.member != nil else { throw DBusError.malformed("call without path or member") }
        case .signal: guard m.path != nil, m.member != nil, m.interface != nil else { throw DBusError.malformed("signal without path, interface or member") }
        case .methodReturn: guard m.replySerial != nil else { throw DBusError.malformed("reply without a reply serial") }
        case .error: guard m.replySerial != nil, m.errorName != nil else { throw DBusError.malformed("error without name or reply serial") }
        }
        return m
    }
}

/// Splitting and checking type signatures.
enum DBusSignature {
    static let maxDepth = 32

    /// The complete types of a signature, in order ("sa(sv)" → ["s", "a(sv)"]).
    static func split(_ sig: String) throws -> [String] {
        let chars = Array(sig.utf8)
        guard chars.count <= 255 else { throw DBusError.malformed("signature too long") }
        var out: [String] = []
        var i = 0
        while i < chars.count {
            let end = try completeType(chars, i, depth: 0)
            out.append(String(decoding: chars[i..<end], as: UTF8.self))
            i = end
        }
        return out
    }

    /// The end index of the complete type starting at `i`.
    static func completeType(_ c: [UInt8], _ i: Int, depth: Int) throws -> Int {
        guard depth < maxDepth else { throw DBusError.malformed("signature nested too deeply") }
        guard i < c.count else { throw DBusError.malformed("incomplete signature") }
        switch c[i] {
        case UInt8(ascii: "y"), UInt8(ascii: "b"), UInt8(ascii: "n"), UInt8(ascii: "q"), UInt8(ascii: "i"),
             UInt8(ascii: "u"), UInt8(ascii: "x"), UInt8(ascii: "t"), UInt8(ascii: "d"), UInt8(ascii: "s"),
             UInt8(ascii: "o"), UInt8(ascii: "g"), UInt8(ascii: "v"), UInt8(ascii: "h"):
            return i + 1
        case UInt8(ascii: "a"):
            if i + 1 < c.count, c[i + 1] == UInt8(ascii: "{") { return try dictEntry(c, i + 1, depth: depth + 1) }
            return try completeType(c, i + 1, depth: depth + 1)
        case UInt8(ascii: "("):
            var j = i + 1
            guard j < c.count, c[j] != UInt8(ascii: ")") else { throw DBusError.malformed("empty structure in signature") }
            while j < c.count && c[j] != UInt8(ascii: ")") { j = try completeType(c, j, depth: depth + 1) }
            guard j < c.count else { throw DBusError.malformed("unclosed structure in signature") }
            return j + 1
        default:
            throw DBusError.malformed("unknown type code \(c[i]) in signature")
        }
    }

    /// A `{kv}` (only valid as an array's element): the end index.
    static func dictEntry(_ c: [UInt8], _ i: Int, depth: Int) throws -> Int {
        let key = i + 1
        guard key < c.count, "ybnqiuxtdsog".utf8.contains(c[key]) else { throw DBusError.malformed("dict key must be basic") }
        let value = try completeType(c, key + 1, depth: depth + 1)
        guard value < c.count, c[value] == UInt8(ascii: "}") else { throw DBusError.malformed("bad dict entry in signature") }
        return value + 1
    }

    static func alignment(_ sig: Substring) -> Int {
        switch sig.first {
        case "n", "q": return 2
        case "i", "u", "b", "a", "s", "o", "h": return 4
        case "x", "t", "d", "(", "{": return 8
        default: return 1  // y, g, v
        }
    }
}

struct DBusWriter {
    var bytes: [UInt8] = []

    mutating func align(_ n: Int) {
        while bytes.count % n != 0 { bytes.append(0) }
    }

    mutating func int<T: FixedWidthInteger>(_ v: T) {
        align(MemoryLayout<T>.size)
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func write(_ v: DBusValue) {
        switch v {
        case .byte(let b): bytes.append(b)
        case .bool(let b): int(UInt32(b ? 1 : 0))
        case .int32(let i): int(i)
        case .uint32(let u): int(u)
        case .int64(let x): int(x)
        case .uint64(let t): int(t)
        case .double(let bits): int(bits)
        case .string(let s), .objectPath(let s):
            int(UInt32(s.utf8.count))
            bytes.append(contentsOf: s.utf8)
            bytes.append(0)
        case .signature(let s):
            bytes.append(UInt8(truncatingIfNeeded: s.utf8.count))
            bytes.append(contentsOf: s.utf8)
            bytes.append(0)
        case .array(let element, let items):
            int(UInt32(0))
            let lengthAt = bytes.count - 4
            align(DBusSignature.alignment(element[...]))
            let start = bytes.count
            for item in items { write(item) }
            let n = UInt32(bytes.count - start).littleEndian
            withUnsafeBytes(of: n) { for (i, b) in $0.enumerated() { bytes[lengthAt + i] = b } }
        case .structure(let fields):
            align(8)
            for f in fields { write(f) }
        case .dictEntry(let k, let v):
            align(8)
            write(k)
            write(v)
        case .variant(let inner):
            write(.signature(inner.signature))
            write(inner)
        }
    }
}

/// Reads values of a given signature with every bound checked: a peer's
/// bytes can be anything.
struct DBusReader {
    let bytes: ArraySlice<UInt8>
    let bigEndian: Bool
    /// Offset from bytes.startIndex; alignment is counted from `base`.
    var offset = 0
    var base = 0
    var depth = 0

    init(_ bytes: ArraySlice<UInt8>, bigEndian: Bool) throws {
        self.bytes = bytes
        self.bigEndian = bigEndian
    }

    mutating func align(_ n: Int) throws {
        let pad = (n - (offset - base) % n) % n
        guard offset + pad <= bytes.count else { throw DBusError.malformed("truncated (padding)") }
        for i in 0..<pad where bytes[bytes.startIndex + offset + i] != 0 { throw DBusError.malformed("non-zero padding") }
        offset += pad
    }

    mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, offset + n <= bytes.count else { throw DBusError.malformed("truncated") }
        defer { offset += n }
        return bytes[(bytes.startIndex + offset)..<(bytes.startIndex + offset + n)]
    }

    mutating func fixed<T: FixedWidthInteger>(_: T.Type) throws -> T {
        try align(MemoryLayout<T>.size)
        var v: T = 0
        for b in try take(MemoryLayout<T>.size).reversed() { v = (v << 8) | T(truncatingIfNeeded: b) }
        // The loop read little-endian; a big-endian message reverses it.
        return bigEndian ? v.byteSwapped : v
    }

    mutating func uint32() throws -> UInt32 { try fixed(UInt32.self) }

    mutating func text(lengthBytes: Int) throws -> String {
        let n = lengthBytes == 1 ? Int(try take(1).first!) : Int(try uint32())
        guard n <= DBusMessage.maxLength else { throw DBusError.malformed("string too long") }
        let raw = try take(n)
        guard try take(1).first == 0 else { throw DBusError.malformed("string not NUL-terminated") }
        guard !raw.contains(0), let s = String(validating: raw, as: UTF8.self) else {
            throw DBusError.malformed("string is not valid UTF-8")
        }
        return s
    }

    /// One value of the complete type `sig`.
    mutating func read(_ sig: String) throws -> DBusValue {
        depth += 1
        defer { depth -= 1 }
        guard depth <= 64 else { throw DBusError.malformed("value nested too deeply") }
        let c = Array(sig.utf8)
        let end = c.first == UInt8(ascii: "{")
            ? try DBusSignature.dictEntry(c, 0, depth: 0) : try DBusSignature.completeType(c, 0, depth: 0)
        guard end == c.count else {
            throw DBusError.malformed("not one complete type: \(sig)")
        }
        switch c[0] {
        case UInt8(ascii: "y"): return .byte(try take(1).first!)
        case UInt8(ascii: "b"):
            let v = try uint32()
            guard v <= 1 else { throw DBusError.malformed("boolean \(v)") }
            return .bool(v == 1)
        case UInt8(ascii: "n"): return .int32(Int32(try fixed(Int16.self)))
        case UInt8(ascii: "q"): return .uint32(UInt32(try fixed(UInt16.self)))
        case UInt8(ascii: "i"): return .int32(try fixed(Int32.self))
        case UInt8(ascii: "u"), UInt8(ascii: "h"): return .uint32(try uint32())
        case UInt8(ascii: "x"): return .int64(try fixed(Int64.self))
        case UInt8(ascii: "t"): return .uint64(try fixed(UInt64.self))
        case UInt8(ascii: "d"): return .double(try fixed(UInt64.self))
        case UInt8(ascii: "s"): return .string(try text(lengthBytes: 4))
        case UInt8(ascii: "o"): return .objectPath(try text(lengthBytes: 4))
        case UInt8(ascii: "g"):
            let s = try text(lengthBytes: 1)
            _ = try DBusSignature.split(s)
            return .signature(s)
        case UInt8(ascii: "v"):
            let inner = try text(lengthBytes: 1)
            guard try DBusSignature.split(inner).count == 1 else { throw DBusError.malformed("variant signature \(inner)") }
            return .variant(try read(inner))
        case UInt8(ascii: "a"):
            let element = String(sig.dropFirst())
            let n = Int(try uint32())
            guard n <= 1 << 26 else { throw DBusError.malformed("array too long") }
            try align(DBusSignature.alignment(element[...]))
            let end = offset + n
            guard end <= bytes.count else { throw DBusError.malformed("truncated array") }
            var items: [DBusValue] = []
            while offset < end { items.append(try read(element)) }
            guard offset == end else { throw DBusError.malformed("array length mismatch") }
            return .array(element: element, items)
        case UInt8(ascii: "("):
            try align(8)
            let inner = String(decoding: c[1..<(c.count - 1)], as: UTF8.self)
            return .structure(try DBusSignature.split(inner).map { try read($0) })
        case UInt8(ascii: "{"):
            try align(8)
            let parts = try DBusSignature.split(String(decoding: c[1..<(c.count - 1)], as: UTF8.self))
            guard parts.count == 2 else { throw DBusError.malformed("dict entry \(sig)") }
            return .dictEntry(try read(parts[0]), try read(parts[1]))
        default:
            throw DBusError.malformed("unknown type \(sig)")
        }
    }
}
