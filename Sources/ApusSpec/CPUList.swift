/// The kernel's list format for CPUs and NUMA nodes ("0-3,7"), used by
/// `cpus`, `mems`, `execCPUAffinity` and `memoryPolicy.nodes`. Parsing
/// follows runc: spaces around items and empty items are allowed.
public enum CPUList {
    /// runc's sanity cap, so a typo cannot make Apus allocate a huge mask.
    public static let maxID = 64 * 1024

    public struct ParseError: Error, Equatable {
        public var message: String
    }

    /// The ranges in `text`, in order; empty for "" (meaning "unset").
    public static func parse(_ text: String) throws -> [ClosedRange<Int>] {
        var ranges: [ClosedRange<Int>] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = item.trimmingSpaces
            if trimmed.isEmpty { continue }
            let bounds = trimmed.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            let start = try number(bounds[0])
            let end = bounds.count == 2 ? try number(bounds[1]) : start
            if start > end { throw ParseError(message: "range \(trimmed) is descending") }
            ranges.append(start...end)
        }
        return ranges
    }

    private static func number(_ s: Substring) throws -> Int {
        guard !s.isEmpty, s.allSatisfy(\.isASCIIDigit), let n = Int(s), n <= maxID else {
            if !s.isEmpty, s.allSatisfy(\.isASCIIDigit) {
                throw ParseError(message: "\(s) exceeds \(maxID)")
            }
            throw ParseError(message: "\(quoted(String(s))) is not a number")
        }
        return n
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" { s.removeLast() }
        return s
    }
}
