/// Serialises `JSONValue` the way Go's encoding/json does (HTML-safe string
/// escaping, `MarshalIndent` layout), so what Apus prints is byte-for-byte
/// what runc prints for the same data. Output is built as bytes: appending
/// to a String piece by piece cost more than the rest of `apus features`.
public enum JSONWriter {
    public static func compact(_ value: JSONValue) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(value, into: &out, indent: nil, level: 0)
        return String(decoding: out, as: UTF8.self)
    }

    /// Go's `json.MarshalIndent(v, "", indent)`.
    public static func indented(_ value: JSONValue, indent: String = "  ") -> String {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        write(value, into: &out, indent: Array(indent.utf8), level: 0)
        return String(decoding: out, as: UTF8.self)
    }

    private static func newline(_ out: inout [UInt8], _ indent: [UInt8]?, _ level: Int) {
        guard let indent else { return }
        out.append(0x0a)
        for _ in 0..<level { out.append(contentsOf: indent) }
    }

    private static func write(_ value: JSONValue, into out: inout [UInt8], indent: [UInt8]?, level: Int) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: n.utf8)
        case .string(let s): appendQuoted(s, to: &out)
        case .array(let items):
            if items.isEmpty { out.append(contentsOf: "[]".utf8); return }
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(&out, indent, level + 1)
                write(item, into: &out, indent: indent, level: level + 1)
            }
            newline(&out, indent, level)
            out.append(UInt8(ascii: "]"))
        case .object(let obj):
            if obj.members.isEmpty { out.append(contentsOf: "{}".utf8); return }
            out.append(UInt8(ascii: "{"))
            for (i, m) in obj.members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(&out, indent, level + 1)
                appendQuoted(m.key, to: &out)
                out.append(UInt8(ascii: ":"))
                if indent != nil { out.append(UInt8(ascii: " ")) }
                write(m.value, into: &out, indent: indent, level: level + 1)
            }
            newline(&out, indent, level)
            out.append(UInt8(ascii: "}"))
        }
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// A JSON string literal as Go writes it: `<`, `>`, `&`, U+2028 and
    /// U+2029 escaped as \u00XX / \u20XX, control characters as \n, \r, \t
    /// or \u00XX.
    public static func appendQuoted(_ s: String, to out: inout String) {
        var bytes: [UInt8] = []
        appendQuoted(s, to: &bytes)
        out.append(String(decoding: bytes, as: UTF8.self))
    }

    public static func appendQuoted(_ s: String, to out: inout [UInt8]) {
        out.append(0x22)
        var utf8 = Array(s.utf8)[...]
        while let b = utf8.popFirst() {
            switch b {
            case 0x22: out.append(contentsOf: [0x5c, 0x22])
            case 0x5c: out.append(contentsOf: [0x5c, 0x5c])
            case 0x0a: out.append(contentsOf: [0x5c, UInt8(ascii: "n")])
            case 0x0d: out.append(contentsOf: [0x5c, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5c, UInt8(ascii: "t")])
            case 0x3c, 0x3e, 0x26: appendEscaped(UInt32(b), to: &out)
            case 0xe2 where utf8.count >= 2 && utf8[utf8.startIndex] == 0x80
                && (utf8[utf8.startIndex + 1] == 0xa8 || utf8[utf8.startIndex + 1] == 0xa9):
                // U+2028 LINE SEPARATOR / U+2029 PARAGRAPH SEPARATOR
                appendEscaped(utf8[utf8.startIndex + 1] == 0xa8 ? 0x2028 : 0x2029, to: &out)
                utf8 = utf8.dropFirst(2)
            default:
                if b < 0x20 { appendEscaped(UInt32(b), to: &out) } else { out.append(b) }
            }
        }
        out.append(0x22)
    }

    private static func appendEscaped(_ v: UInt32, to out: inout [UInt8]) {
        out.append(contentsOf: [0x5c, UInt8(ascii: "u")])
        for shift in stride(from: 12, through: 0, by: -4) {
            out.append(hex[Int((v >> UInt32(shift)) & 0xf)])
        }
    }
}
