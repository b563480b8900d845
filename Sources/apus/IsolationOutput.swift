import ApusRuntime

/// The text forms of `apus check` and `apus inspect`: for people, short and
/// aligned, risks first. (`--format json` is the stable form for tools.)
enum IsolationOutput {
    static func check(_ r: CheckReport) -> String {
        var lines = r.errors.map { pad("error", 9) + $0.description }
        lines += r.warnings.map { pad("warning", 9) + $0.description }
        lines += riskRows(r.risks)
        lines.append("config.json: \(count(r.errors.count, "error")), \(count(r.warnings.count, "warning")), \(riskSummary(r.risks))")
        return lines.joined(separator: "\n") + "\n"
    }

    /// "high     cap-sys-admin        path: message", ids aligned.
    static func riskRows(_ risks: [Risk], withPaths: Bool = true) -> [String] {
        let width = risks.map { $0.id.count }.max() ?? 0
        return risks.map { r in
            pad(r.severity.rawValue, 9) + pad(r.id, width + 2) + (withPaths && !r.path.isEmpty ? r.path + ": " : "") + r.message
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

extension IsolationOutput {
    /// `apus inspect` for people: one labelled block a topic, risks first.
    static func inspect(_ r: InspectReport) -> String {
        var out: [String] = []
        func block(_ label: String, _ rows: [String]) {
            for (i, row) in (rows.isEmpty ? ["-"] : rows).enumerated() { out.append(pad(i == 0 ? label : "", 14) + row) }
        }
        block("CONTAINER", ["\(r.id)  \(r.status.rawValue)  pid \(r.pid)"])
        block("RISKS", r.risks.isEmpty ? ["none found"] : riskRows(r.risks, withPaths: false) + [riskSummary(r.risks)])
        block("NAMESPACES", r.namespaces.map { ns in
            var row = pad(ns.type.procName, 8) + pad(String(ns.inode), 12)
            if ns.sharedWithHost { row += "host" }
            if let joined = ns.joined { row += (ns.sharedWithHost ? ", " : "") + "joined \(joined)" }
            if let owner = ns.owner, owner != "host" { row += " (\(owner))" }
            return row.trimmingSpaces
        })
        let maps = r.uidMap.map { "\($0.containerID) \($0.hostID) \($0.size)" }.joined(separator: ", ")
        block("USER", ["uid \(r.uid.map(String.init) ?? "?")  gid \(r.gid.map(String.init) ?? "?")  groups "
            + (r.groups.isEmpty ? "-" : r.groups.map(String.init).joined(separator: ",")) + "  uid map \(maps.isEmpty ? "-" : maps)"])
        block("CAPABILITIES", r.capabilities.map { set, names in
            pad(set.rawValue, 13) + (names.isEmpty ? "-" : names.map { $0.hasPrefix("CAP_") ? String($0.dropFirst(4)) : $0 }.joined(separator: " "))
        })
        let lsm = r.lsm.map { "\($0.name) \($0.label)" } ?? "no LSM label"
        block("SECURITY", ["no_new_privs \(r.noNewPrivileges ? "on" : "off")  seccomp \(r.seccompMode.rawValue)"
            + (r.seccompFilters > 0 ? " (\(r.seccompFilters) filters)" : "") + "  \(lsm)"])
        block("CGROUP", cgroupRows(r))
        block("MOUNTS", mountRows(r))
        block("DEVICES", [r.devices.map { $0.path }.joined(separator: " ")].filter { !$0.isEmpty })
        return out.joined(separator: "\n") + "\n"
    }

    /// Destination, type, rw/ro and where a host filesystem comes from; the
    /// run of binds of the container's own cgroups (one per v1 hierarchy)
    /// folded into one row.
    private static func mountRows(_ r: InspectReport) -> [String] {
        let visible = r.mounts.filter { !$0.hidden }
        let own = Set(r.cgroupPaths.values)
        let width = min(30, (visible.map { $0.entry.mountPoint.count }.max() ?? 0) + 2)
        let typeWidth = (visible.map { $0.entry.fsType.count }.max() ?? 0) + 2
        func row(_ at: String, _ type: String, _ writable: Bool, _ note: String?) -> String {
            pad(at, width) + pad(type, typeWidth) + (writable ? "rw" : "ro") + (note.map { "  " + $0 } ?? "")
        }
        var rows: [String] = []
        var i = 0
        while i < visible.count {
            var j = i
            while j < visible.count, let source = visible[j].hostSource, own.contains(source) { j += 1 }
            if j - i > 1 {
                let run = visible[i..<j]
                rows.append(row(FS.dirname(visible[i].entry.mountPoint) + "/*", visible[i].entry.fsType,
                                run.contains { $0.entry.isWritable }, "the container's own cgroups (\(run.count) mounts)"))
                i = j
                continue
            }
            let m = visible[i]
            rows.append(row(m.entry.mountPoint, m.entry.fsType, m.entry.isWritable,
                            m.hostSource.map { $0 == "/dev/null" ? "masked" : "from \($0)" }))
            i += 1
        }
        return rows
    }

    /// The cgroups grouped by path ("/x (cpu memory ...)"), then the limits.
    private static func cgroupRows(_ r: InspectReport) -> [String] {
        var byPath: [String: [String]] = [:]
        for (key, path) in r.cgroupMembership where r.cgroupPaths[key] != nil { byPath[path, default: []].append(key) }
        var rows = byPath.keys.sorted().map { "\($0)  (\(byPath[$0]!.sorted().joined(separator: " ")))" }
        rows.insert(r.cgroupLayout.rawValue + " layout", at: 0)
        let l = r.limits
        func v(_ n: Int64?) -> String { n.map { $0 < 0 ? "max" : String($0) } ?? "?" }
        var limits = ["memory \(v(l.memory))", "pids \(v(l.pids))"]
        if l.cpuQuota != nil || l.cpuPeriod != nil { limits.append("cpu \(v(l.cpuQuota))/\(v(l.cpuPeriod))") }
        if let s = l.cpuShares { limits.append("shares \(s)") }
        if let w = l.cpuWeight { limits.append("weight \(w)") }
        if l.cpus != nil || l.mems != nil { limits.append("cpuset \(l.cpus ?? "?") mems \(l.mems ?? "?")") }
        rows.append(limits.joined(separator: "  "))
        return rows
    }
}

private extension String {
    var trimmingSpaces: String {
        var s = self
        while s.hasSuffix(" ") { s.removeLast() }
        return s
    }
}
