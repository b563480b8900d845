import ApusSpec
import Foundation
import XCTest

/// The JSON value with object keys sorted and `null` members dropped, so two
/// documents that mean the same config compare equal.
func canonical(_ v: JSONValue) -> JSONValue {
    switch v {
    case .array(let items):
        return .array(items.map(canonical))
    case .object(let o):
        var latest: [String: JSONValue] = [:]
        for m in o.members { latest[m.key] = m.value } // duplicate keys: last wins
        let kept = latest.filter { $0.value != .null }.sorted { $0.key < $1.key }
        return .object(JSONObject(kept.map { ($0.key, canonical($0.value)) }))
    default:
        return v
    }
}

/// Where two canonical values first differ, for readable failures.
func firstDifference(_ a: JSONValue, _ b: JSONValue, at path: String = "$") -> String? {
    switch (a, b) {
    case (.object(let x), .object(let y)):
        let xk = Set(x.keys), yk = Set(y.keys)
        if let missing = xk.subtracting(yk).sorted().first { return "\(path).\(missing): lost when re-encoded" }
        if let extra = yk.subtracting(xk).sorted().first { return "\(path).\(extra): added when re-encoded" }
        for k in x.keys.sorted() {
            if let d = firstDifference(x[k]!, y[k]!, at: "\(path).\(k)") { return d }
        }
        return nil
    case (.array(let x), .array(let y)):
        if x.count != y.count { return "\(path): \(x.count) items became \(y.count)" }
        for (i, (p, q)) in zip(x, y).enumerated() {
            if let d = firstDifference(p, q, at: "\(path)[\(i)]") { return d }
        }
        return nil
    default:
        return a == b ? nil : "\(path): \(JSONWriter.compact(a)) became \(JSONWriter.compact(b))"
    }
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// The error `decodeAndValidate` throws for `text`, as printed; nil if none.
func loadError(_ text: String) -> String? { loadError(bytes(text)) }

func loadError(_ data: [UInt8]) -> String? {
    do {
        _ = try ConfigLoader.decodeAndValidate(bytes: data)
        return nil
    } catch {
        return "\(error)"
    }
}

/// Decodes `text` as a Spec, failing the test on error.
func decodeSpec(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Spec? {
    do {
        return try Spec.decode(bytes(text))
    } catch {
        XCTFail("decode failed: \(error)", file: file, line: line)
        return nil
    }
}

/// A small valid config; tests patch it with `withJSON`.
let minimalConfig = """
{
  "ociVersion": "1.2.0",
  "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/"},
  "root": {"path": "rootfs"},
  "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]}
}
"""

/// `minimalConfig` with `edit` applied to its parsed JSON object tree.
func withJSON(_ edit: (inout [String: Any]) -> Void) -> String {
    var object = try! JSONSerialization.jsonObject(with: Data(minimalConfig.utf8)) as! [String: Any]
    edit(&object)
    let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    return String(decoding: data, as: UTF8.self)
}

/// Messages `validate()` reports for `text` (which must decode).
func validationErrors(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
    guard let spec = decodeSpec(text, file: file, line: line) else { return [] }
    return spec.validate().map(\.description)
}

extension Dictionary where Key == String, Value == Any {
    /// Sets a value at a nested key path, creating objects on the way.
    subscript(path path: [String]) -> Any? {
        get {
            var node: Any? = self
            for k in path { node = (node as? [String: Any])?[k] }
            return node
        }
        set {
            guard let first = path.first else { return }
            if path.count == 1 { self[first] = newValue; return }
            var child = self[first] as? [String: Any] ?? [:]
            child[path: Array(path.dropFirst())] = newValue
            self[first] = child
        }
    }
}
