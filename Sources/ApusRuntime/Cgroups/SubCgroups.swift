import Glibc

/// `exec --cgroup`: runc's choice of an existing sub-cgroup of the
/// container's cgroup for the new process. Either one `PATH` for every
/// hierarchy, or `CONTROLLER[,CONTROLLER]:PATH` entries (cgroup v1) for
/// some of them, the rest staying in the container's own cgroup.
enum SubCgroups {
    /// The --cgroup values as a controller → path map; "" is every
    /// hierarchy. runc's rules and messages.
    static func parse(_ args: [String]) throws -> [String: String] {
        var out: [String: String] = [:]
        for arg in args {
            guard let colon = arg.firstIndex(of: ":") else {
                if args.count != 1 {
                    throw RuntimeError.usage("invalid --cgroup argument: \(arg) (missing <controller>: prefix)")
                }
                out[""] = arg
                continue
            }
            let path = String(arg[arg.index(after: colon)...])
            for ctrl in arg[..<colon].split(separator: ",", omittingEmptySubsequences: false) {
                if ctrl.isEmpty { throw RuntimeError.usage("invalid --cgroup argument: \(arg) (empty <controller> prefix)") }
                if out[String(ctrl)] != nil {
                    throw RuntimeError.usage("invalid --cgroup argument(s): controller \(ctrl) specified multiple times")
                }
                out[String(ctrl)] = path
            }
        }
        return out
    }

    /// The container's cgroup directories (keyed as in `Cgroups.paths`)
    /// with the chosen sub-cgroups below them; each must exist already.
    static func paths(_ base: [String: String], _ sub: [String: String]) throws -> [String: String] {
        if sub.isEmpty { return base }
        var out = base
        if let all = sub[""] {
            for (key, dir) in base { out[key] = try below(dir, all) }
        } else {
            var chosen: [String: String] = [:]
            for (ctrl, path) in sub.sorted(by: { $0.key < $1.key }) {
                guard let key = base.keys.first(where: { $0 == ctrl || $0.split(separator: ",").contains(Substring(ctrl)) }) else {
                    throw RuntimeError.usage("invalid --cgroup argument: unknown controller \(ctrl) (the container's cgroups: \(base.keys.sorted().joined(separator: " ")))")
                }
                if let other = chosen[key], other != path {
                    throw RuntimeError.usage("invalid --cgroup argument(s): \(key) is one hierarchy, given two paths (\(other), \(path))")
                }
                chosen[key] = path
                out[key] = try below(base[key] ?? "", path)
            }
        }
        // runc's words (Go's errno texts), which tools and its tests match on.
        for (_, dir) in out.sorted(by: { $0.key < $1.key }) where !FS.isDirectory(dir) {
            let reason = FS.exists(dir) ? "not a directory" : "no such file or directory"
            throw RuntimeError.other("error adding pid to cgroups: \(dir)/cgroup.procs: \(reason) (--cgroup sub-cgroups must exist)")
        }
        return out
    }

    /// `path` under `dir`; it may not climb out of it.
    static func below(_ dir: String, _ path: String) throws -> String {
        let parts = path.split(separator: "/")
        if parts.contains("..") {
            throw RuntimeError.usage("invalid --cgroup argument: \(path) is not a sub cgroup path (must not contain \"..\")")
        }
        return parts.isEmpty ? dir : dir + "/" + parts.joined(separator: "/")
    }
}
