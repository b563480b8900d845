/// Go's time.ParseDuration, for runc's duration flags (`events --interval`):
/// "5s", "1.5s", "300ms", "1m30s", "-2h"; units ns, us (µs, μs), ms, s, m, h;
/// a bare "0". The result is in nanoseconds; nil when Go would refuse it.
public enum GoDuration {
    static let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("μs", 1e3), ("ms", 1e6),
                                            ("s", 1e9), ("m", 60e9), ("h", 3600e9)]

    public static func parse(_ text: String) -> Int64? {
        var s = Substring(text)
        var negative = false
        if let sign = s.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            s = s.dropFirst()
        }
        if s == "0" { return 0 }
        guard !s.isEmpty else { return nil }
        var total = 0.0
        while !s.isEmpty {
            let number = s.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number != ".", number.filter({ $0 == "." }).count <= 1, let value = Double(number) else { return nil }
            s = s.dropFirst(number.count)
            let unit = s.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            guard let scale = units.first(where: { $0.0 == unit })?.1 else { return nil }
            s = s.dropFirst(unit.count)
            total += value * scale
            if total > Double(Int64.max) { return nil }
        }
        let ns = Int64(total.rounded(.towardZero))
        return negative ? -ns : ns
    }
}
