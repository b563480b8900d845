/// The little of the protobuf wire format CRIU's RPC needs (proto2:
/// varints, booleans, int32 and uint32, strings and nested messages;
/// repeated fields are plain repetitions). No reflection: each message
/// writes its own fields in order and reads the ones it knows.
struct ProtoWriter {
    private(set) var bytes: [UInt8] = []

    enum WireType: UInt8 { case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5 }

    private mutating func key(_ field: Int, _ type: WireType) { varint(UInt64(field) << 3 | UInt64(type.rawValue)) }

    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// int32: negative values are sign-extended to ten bytes, as protobuf does.
    mutating func int32(_ field: Int, _ v: Int32?) {
        guard let v else { return }
        key(field, .varint)
        varint(UInt64(bitPattern: Int64(v)))
    }

    mutating func uint32(_ field: Int, _ v: UInt32?) {
        guard let v else { return }
        key(field, .varint)
        varint(UInt64(v))
    }

    mutating func bool(_ field: Int, _ v: Bool?) {
        guard let v else { return }
        key(field, .varint)
        varint(v ? 1 : 0)
    }

    mutating func string(_ field: Int, _ v: String?) {
        guard let v else { return }
        bytesField(field, Array(v.utf8))
    }

    mutating func message(_ field: Int, _ v: ProtoWriter?) {
        guard let v else { return }
        bytesField(field, v.bytes)
    }

    /// A nested message written by `fill`.
    mutating func nested(_ field: Int, _ fill: (inout ProtoWriter) -> Void) {
        var inner = ProtoWriter()
        fill(&inner)
        bytesField(field, inner.bytes)
    }

    private mutating func bytesField(_ field: Int, _ data: [UInt8]) {
        key(field, .lengthDelimited)
        varint(UInt64(data.count))
        bytes += data
    }
}

/// A decoded message: its fields in wire order (varints as numbers,
/// length-delimited ones as bytes). Malformed input is an error, never a trap.
struct ProtoMessage {
    enum Value: Equatable {
        case number(UInt64)
        case bytes([UInt8])
    }

    struct Malformed: Error, CustomStringConvertible {
        var description: String { "malformed protobuf message" }
    }

    private(set) var fields: [(field: Int, value: Value)] = []

    init(_ data: [UInt8]) throws {
        var i = 0
        func varint() throws -> UInt64 {
            var v: UInt64 = 0, shift: UInt64 = 0
            while true {
                guard i < data.count, shift < 64 else { throw Malformed() }
                let b = data[i]
                i += 1
                v |= UInt64(b & 0x7f) << shift
                if b & 0x80 == 0 { return v }
                shift += 7
            }
        }
        while i < data.count {
            let k = try varint()
            let field = Int(k >> 3)
            guard field > 0 else { throw Malformed() }
            switch k & 7 {
            case 0: fields.append((field, .number(try varint())))
            case 1, 5:
                let n = k & 7 == 1 ? 8 : 4
                guard data.count - i >= n else { throw Malformed() }
                var v: UInt64 = 0
                for j in 0..<n { v |= UInt64(data[i + j]) << (8 * UInt64(j)) }
                i += n
                fields.append((field, .number(v)))
            case 2:
                let n = try varint()
                guard n <= UInt64(data.count - i) else { throw Malformed() }
                fields.append((field, .bytes(Array(data[i..<i + Int(n)]))))
                i += Int(n)
            default: throw Malformed()
            }
        }
    }

    /// The last value of `field` (proto2: the last one wins).
    func value(_ field: Int) -> Value? { fields.last { $0.field == field }?.value }

    func number(_ field: Int) -> UInt64? {
        if case .number(let v)? = value(field) { return v }
        return nil
    }

    func int32(_ field: Int) -> Int32? { number(field).map { Int32(truncatingIfNeeded: Int64(bitPattern: $0)) } }
    func bool(_ field: Int) -> Bool? { number(field).map { $0 != 0 } }

    func string(_ field: Int) -> String? {
        if case .bytes(let b)? = value(field) { return String(decoding: b, as: UTF8.self) }
        return nil
    }

    func message(_ field: Int) throws -> ProtoMessage? {
        if case .bytes(let b)? = value(field) { return try ProtoMessage(b) }
        return nil
    }
}
