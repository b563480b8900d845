/// Serialises `JSONValue` the way Go's encoding/json does (HTML-safe string
/// escaping, `MarshalIndent` layout), so what Apus prints is byte-for-byte
/// what runc prints for the same data.
public enum JSONWriter {
    public static func compact(_ value: JSONValue) -> String {
        var out = ""
        write(value, into: &out, indent: nil, level: 0)
        return out
    }

    /// Go's `json.MarshalIndent(v, "", indent)`.
    public static func indented(_ value: JSONValue, indent: String = "  ") -> String {
        var out = ""
        write(value, into: &out, indent: indent, level: 0)
        return out
    }

    private static func newline(_ out: inout String, _ indent: String?, _ level: Int) {
        guard let indent else { return }
        out.append("\n")
        for _ in 0..<level { out.append(indent) }
    }

    private static func write(_ value: JSONValue, into out: inout String, indent: String?, level: Int) {
        switch value {
        case .null: out.append("null")
        case .bool(let b): out.append(b ? "true" : "false")
        case .number(let n): out.append(n)
        case .string(let s): appendQuoted(s, to: &out)
        case .array(let items):
            if items.isEmpty { out.append("[]"); return }
            out.append("[")
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(",") }
                newline(&out, indent, level + 1)
                write(item, into: &out, indent: indent, level: level + 1)
            }
            newline(&out, indent, level)
            out.append("]")
        case .object(let obj):
            if obj.members.isEmpty { out.append("{}"); return }
            out.append("{")
            for (i, m) in obj.members.enumerated() {
                if i > 0 { out.append(",") }
                newline(&out, indent, level + 1)
                appendQuoted(m.key, to: &out)
                out.append(indent == nil ? ":" : ": ")
                write(m.value, into: &out, indent: indent, level: level + 1)
            }
            newline(&out, indent, level)
            out.append("}")
        }
    }

    private static let hex: [Character] = Array("0123456789abcdef")

    public static func appendQuoted(_ s: String, to out: inout String) {
        // Nearly every string (ids, paths, keys) needs no escaping: copy it whole.
        let plain = s.utf8.allSatisfy { b in
            b >= 0x20 && b != 0x22 && b != 0x5c && b != 0x3c && b != 0x3e && b != 0x26 && b < 0x80
        }
        if plain {
            out.append("\"")
            out.append(s)
            out.append("\"")
            return
        }
        out.append("\"")
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out.append("\\\"")
            case "\\": out.append("\\\\")
            case "\n": out.append("\\n")
            case "\r": out.append("\\r")
            case "\t": out.append("\\t")
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                appendEscaped(scalar.value, to: &out)
            default:
                if scalar.value < 0x20 { appendEscaped(scalar.value, to: &out) } else { out.unicodeScalars.append(scalar) }
            }
        }
        out.append("\"")
    }

    private static func appendEscaped(_ v: UInt32, to out: inout String) {
        out.append("\\u")
        for shift in stride(from: 12, through: 0, by: -4) {
            out.append(hex[Int((v >> UInt32(shift)) & 0xf)])
        }
    }
}
