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
                TreeBuilder.from(ctx).add(.number(TreeBuilder.string(ptr, len)))
            },
            yajl_string: { ctx, ptr, len in
                TreeBuilder.from(ctx).add(.string(TreeBuilder.string(ptr, len)))
            },
            yajl_start_map: { TreeBuilder.from($0).open(isObject: true) },
            yajl_map_key: { ctx, ptr, len in
                TreeBuilder.from(ctx).key(TreeBuilder.string(ptr, len))
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
        if status == yajl_status_ok { status = yajl_complete_parse(handle) }
        if status != yajl_status_ok {
            if let reason = builder.abortReason { throw JSONParseError(message: reason) }
            throw JSONParseError(message: errorText(handle, bytes))
        }
        guard let root = builder.root else { throw JSONParseError(message: "empty document") }
        return root
    }

    private static func errorText(_ handle: yajl_handle, _ bytes: [UInt8]) -> String {
        let offset = yajl_get_bytes_consumed(handle)
        guard let cstr = bytes.withUnsafeBufferPointer({ buf in
            yajl_get_error(handle, 0, buf.baseAddress, buf.count)
        }) else { return "invalid JSON" }
        defer { yajl_free_error(handle, cstr) }
        var text = String(cString: cstr)
        while text.last == "\n" || text.last == " " { text.removeLast() }
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x09 || $0 == 0x0d }) {
            return "empty document"
        }
        return "invalid JSON at byte \(offset): \(text)"
    }
}

private final class TreeBuilder {
    enum Frame {
        case object(JSONObject, pendingKey: String?)
        case array([JSONValue])
    }
    var stack: [Frame] = []
    var root: JSONValue?
    var abortReason: String?

    static func from(_ ctx: UnsafeMutableRawPointer?) -> TreeBuilder {
        Unmanaged<TreeBuilder>.fromOpaque(ctx!).takeUnretainedValue()
    }

    static func string(_ ptr: UnsafePointer<UInt8>?, _ len: Int) -> String {
        guard let ptr, len > 0 else { return "" }
        return String(decoding: UnsafeBufferPointer(start: ptr, count: len), as: UTF8.self)
    }

    // yajl callbacks return 1 to continue, 0 to cancel the parse.
    func add(_ value: JSONValue) -> Int32 {
        guard let top = stack.popLast() else { root = value; return 1 }
        switch top {
        case .array(var a):
            a.append(value)
            stack.append(.array(a))
        case .object(var o, let key):
            o.members.append((key ?? "", value))
            stack.append(.object(o, pendingKey: nil))
        }
        return 1
    }

    func open(isObject: Bool) -> Int32 {
        if stack.count >= JSONParser.maxDepth {
            abortReason = "nesting deeper than \(JSONParser.maxDepth) levels"
            return 0
        }
        stack.append(isObject ? .object(JSONObject(), pendingKey: nil) : .array([]))
        return 1
    }

    func key(_ k: String) -> Int32 {
        guard case .object(let o, _)? = stack.popLast() else { return 0 }
        stack.append(.object(o, pendingKey: k))
        return 1
    }

    func close() -> Int32 {
        guard let top = stack.popLast() else { return 0 }
        switch top {
        case .array(let a): return add(.array(a))
        case .object(let o, _): return add(.object(o))
        }
    }
}
