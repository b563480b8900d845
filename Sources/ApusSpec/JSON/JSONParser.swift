import CYajl

public struct JSONParseError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Parses JSON with yajl's event parser straight into `JSONValue`, bounding
/// nesting depth so hostile input cannot exhaust the stack.
public enum JSONParser {
    public static let maxDepth = 512

    public static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        let builder = TreeBuilder()
        let ctx = Unmanaged.passUnretained(builder).toOpaque()
        var callbacks = yajl_callbacks(
            yajl_null: { TreeBuilder.from($0).add(.null) },
            yajl_boolean: { TreeBuilder.from($0).add(.bool($1 != 0)) },
            yajl_integer: nil,
            yajl_double: nil,
            yajl_number: { ctx, ptr, len in
                // yajl hands numbers over as `const char *`, strings as `const unsigned char *`.
                TreeBuilder.from(ctx).add(.number(TreeBuilder.string(UnsafeRawPointer(ptr)?.assumingMemoryBound(to: UInt8.self), len)))
            },
            yajl_string: { ctx, ptr, len in
                let builder = TreeBuilder.from(ctx)
                guard let s = builder.validString(ptr, len) else { return 0 }
                return builder.add(.string(s))
            },
            yajl_start_map: { TreeBuilder.from($0).open(isObject: true) },
            yajl_map_key: { ctx, ptr, len in
                let builder = TreeBuilder.from(ctx)
                guard let s = builder.validString(ptr, len) else { return 0 }
                return builder.key(s)
            },
            yajl_end_map: { TreeBuilder.from($0).close() },
            yajl_start_array: { TreeBuilder.from($0).open(isObject: false) },
            yajl_end_array: { TreeBuilder.from($0).close() }
        )
        guard let handle = yajl_alloc(&callbacks, nil, ctx) else {
            throw JSONParseError(message: "out of memory")
        }
        defer { yajl_free(handle) }
        var status = bytes.withUnsafeBufferPointer { buf -> yajl_status in
            yajl_parse(handle, buf.baseAddress, buf.count)
        }
        // Where yajl stopped: within the buffer while parsing, at the end once
        // it has seen all input and still wants more.
        var offset = max(Int(yajl_get_bytes_consumed(handle)) - 1, 0)
        if status == yajl_status_ok {
            status = yajl_complete_parse(handle)
            offset = bytes.count
        }
        if status != yajl_status_ok {
            if let reason = builder.abortReason { throw JSONParseError(message: reason) }
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x09 || $0 == 0x0d }) {
                throw JSONParseError(message: "empty document")
            }
            var what = yajlError(handle, bytes)
            if builder.invalidUTF8 || what.hasSuffix("invalid bytes in UTF8 string") { what = "invalid UTF-8 in a string" }
            throw JSONParseError(message: "invalid JSON at \(position(of: offset, in: bytes)): \(what)")
        }
        guard let root = builder.root else { throw JSONParseError(message: "empty document") }
        return root
    }

    /// yajl's one-line description, e.g. "parse error: premature EOF".
    private static func yajlError(_ handle: yajl_handle, _ bytes: [UInt8]) -> String {
        guard let cstr = bytes.withUnsafeBufferPointer({ buf in
            yajl_get_error(handle, 0, buf.baseAddress, buf.count)
        }) else { return "syntax error" }
        defer { yajl_free_error(handle, cstr) }
        var text = String(cString: cstr)
        while let last = text.last, last == "\n" || last == " " || last == "." { text.removeLast() }
        return text
    }

    /// "line 3, column 27" (both 1-based) for a byte offset.
    static func position(of offset: Int, in bytes: [UInt8]) -> String {
        let end = min(offset, bytes.count)
        var line = 1
        var lineStart = 0
        for i in 0..<end where bytes[i] == 0x0a {
            line += 1
            lineStart = i + 1
        }
        return "line \(line), column \(end - lineStart + 1)"
    }
}

/// Builds the tree from yajl events. Finished values wait on one flat stack
/// and are moved into their container when it closes, so building is linear
/// in the input size (appending to an array held inside an enum payload
/// would copy it on every element).
private final class TreeBuilder {
    struct Frame {
        var isObject: Bool
        var valueStart: Int // index into `values` of this container's first element
        var keyStart: Int // index into `keys` of this object's first key
    }
    var frames: [Frame] = []
    var values: [JSONValue] = []
    var keys: [String] = []
    var root: JSONValue?
    var abortReason: String?
    var invalidUTF8 = false

    static func from(_ ctx: UnsafeMutableRawPointer?) -> TreeBuilder {
        Unmanaged<TreeBuilder>.fromOpaque(ctx!).takeUnretainedValue()
    }

    static func string(_ ptr: UnsafePointer<UInt8>?, _ len: Int) -> String {
        guard let ptr, len > 0 else { return "" }
        return String(decoding: UnsafeBufferPointer(start: ptr, count: len), as: UTF8.self)
    }

    /// yajl checks UTF-8 only loosely (it lets encoded surrogates through);
    /// anything `String(decoding:)` would have to repair is refused here, so
    /// a string never silently changes between the file and the runtime.
    func validString(_ ptr: UnsafePointer<UInt8>?, _ len: Int) -> String? {
        guard let ptr, len > 0 else { return "" }
        let raw = UnsafeBufferPointer(start: ptr, count: len)
        // ASCII (nearly every string apus reads) needs no validation, and
        // String(decoding:) takes it as it is; String(validating:as:) is a
        // stdlib generic that looks up its metadata at every call (6 % of
        // `apus list`).
        var ascii = true
        for byte in raw where byte >= 0x80 {
            ascii = false
            break
        }
        if ascii { return String(decoding: raw, as: UTF8.self) }
        // Validated, not repaired: nil exactly where String(decoding:) would
        // have substituted U+FFFD (one pass; comparing a decoded copy with
        // the bytes was a tenth of `apus list`).
        guard let s = String(validating: raw, as: UTF8.self) else { invalidUTF8 = true; return nil }
        return s
    }

    // yajl callbacks return 1 to continue, 0 to cancel the parse.
    func add(_ value: JSONValue) -> Int32 {
        if frames.isEmpty { root = value } else { values.append(value) }
        return 1
    }

    func open(isObject: Bool) -> Int32 {
        if frames.count >= JSONParser.maxDepth {
            abortReason = "nesting deeper than \(JSONParser.maxDepth) levels"
            return 0
        }
        frames.append(Frame(isObject: isObject, valueStart: values.count, keyStart: keys.count))
        return 1
    }

    func key(_ k: String) -> Int32 {
        guard frames.last?.isObject == true else { return 0 }
        keys.append(k)
        return 1
    }

    func close() -> Int32 {
        guard let frame = frames.popLast() else { return 0 }
        let items = Array(values[frame.valueStart...])
        values.removeSubrange(frame.valueStart...)
        guard frame.isObject else { return add(.array(items)) }
        let names = keys[frame.keyStart...]
        guard names.count == items.count else { return 0 }
        var object = JSONObject()
        object.members.reserveCapacity(items.count)
        for (k, v) in zip(names, items) { object.members.append((k, v)) }
        keys.removeSubrange(frame.keyStart...)
        return add(.object(object))
    }
}
