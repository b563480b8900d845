import ApusSpec

/// linux.resources.unified: raw cgroup v2 files, written last and verbatim.
/// A key must name a file of a controller available to the container's v2
/// cgroup (its prefix, "memory" of "memory.high"); "cgroup.*" files too.
extension CgroupPlan {
    static let v1Refusal = "invalid configuration: cannot use unified on cgroup v1"

    mutating func unified(_ values: [String: String]) {
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            let at = "unified.\(key)"
            let prefix = String(key.prefix { $0 != "." })
            let dir: String?
            do { dir = try host.v2(prefix == "cgroup" ? "" : prefix) } catch {
                fail(error, at: at)
                continue
            }
            guard let dir else {
                if (try? host.v2("")) == nil { fail("unified", Self.v1Refusal); return }
                // runc's words first (tools match on them): on the hybrid layout this
                // controller lives in a v1 hierarchy.
                fail(at, "\(Self.v1Refusal): the \(prefix) controller is not available in this container's cgroup v2 tree")
                continue
            }
            let c = CgroupController(dir: dir, v2: true)
            if require(c, key, for: at, "no such cgroup v2 file") { write(at, c, key, value) }
        }
    }
}
