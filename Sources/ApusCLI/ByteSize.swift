/// A size as docker/go-units' RAMInBytes reads it (runc update's memory
/// flags): a decimal number, optionally a space, then k/m/g/t/p (powers of
/// 1024), an optional "i" and "b"; "1g", "512m", "1.5GiB", "100 kb".
public enum ByteSize {
    public static func parse(_ text: String) -> Int64? {
        let s = Array(text.utf8)
        var i = 0
        func digits() -> Bool {
            let start = i
            while i < s.count, s[i] >= 0x30 && s[i] <= 0x39 { i += 1 }
            return i > start
        }
        guard digits() else { return nil }
        while i < s.count, s[i] == UInt8(ascii: ".") {
            i += 1
            guard digits() else { return nil }
        }
        let numberEnd = i
        if i < s.count, s[i] == UInt8(ascii: " ") { i += 1 }
        var multiplier: Double = 1
        if i < s.count, let k = "kmgtp".utf8.firstIndex(of: s[i] | 0x20) {
            multiplier = Double(UInt64(1) << (10 * UInt64("kmgtp".utf8.distance(from: "kmgtp".utf8.startIndex, to: k) + 1)))
            i += 1
        }
        if i < s.count, s[i] | 0x20 == UInt8(ascii: "i") { i += 1 }
        if i < s.count, s[i] | 0x20 == UInt8(ascii: "b") { i += 1 }
        // go-units takes "1.2.3" as far as ParseFloat does: refused there.
        guard i == s.count, let value = Double(String(decoding: s[..<numberEnd], as: UTF8.self)) else { return nil }
        let bytes = value * multiplier
        guard bytes < 9.2e18 else { return nil }
        return Int64(bytes)
    }
}
