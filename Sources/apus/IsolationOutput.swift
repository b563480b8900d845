import ApusRuntime

/// The text forms of `apus check` and `apus inspect`: for people, short and
/// aligned, risks first. (`--format json` is the stable form for tools.)
enum IsolationOutput {
    static func check(_ r: CheckReport) -> String {
        var lines = r.errors.map { "error    " + $0.description }
        lines += r.warnings.map { "warning  " + $0.description }
        lines += riskRows(r.risks)
        lines.append("config.json: \(count(r.errors.count, "error")), \(count(r.warnings.count, "warning")), \(riskSummary(r.risks))")
        return lines.joined(separator: "\n") + "\n"
    }

    /// "high     cap-sys-admin        path: message", ids aligned.
    static func riskRows(_ risks: [Risk]) -> [String] {
        let width = risks.map { $0.id.count }.max() ?? 0
        return risks.map { r in
            pad(r.severity.rawValue, 9) + pad(r.id, width + 2) + (r.path.isEmpty ? "" : r.path + ": ") + r.message
        }
    }

    static func riskSummary(_ risks: [Risk]) -> String {
        let bySeverity = RiskSeverity.allCases.compactMap { s -> String? in
            let n = risks.filter { $0.severity == s }.count
            return n == 0 ? nil : "\(n) \(s.rawValue)"
        }
        return count(risks.count, "risk") + (bySeverity.isEmpty ? "" : " (" + bySeverity.joined(separator: ", ") + ")")
    }

    static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

    static func pad(_ s: String, _ width: Int) -> String {
        s + String(repeating: " ", count: max(1, width - s.count))
    }
}
