import Glibc

/// Freezes and thaws a container's cgroup: the v1 freezer controller, or
/// cgroup.freeze on v2 (the hybrid layout on this kind of host has the former).
enum Freezer {
    static func set(_ paths: [String: String], frozen: Bool) throws {
        if let dir = paths["freezer"] {
            try FS.write(dir + "/freezer.state", frozen ? "FROZEN" : "THAWED")
            try waitFor(dir + "/freezer.state", frozen ? "FROZEN" : "THAWED")
        } else if let dir = paths["unified"], FS.exists(dir + "/cgroup.freeze") {
            try FS.write(dir + "/cgroup.freeze", frozen ? "1" : "0")
            try waitFor(dir + "/cgroup.events", frozen ? "frozen 1" : "frozen 0")
        } else if Cgroups.hierarchies().contains(where: { $0.key.split(separator: ",").contains("freezer") }) {
            // The host has one, but not for this container (rootless, not delegated): runc's words.
            throw RuntimeError.other("cannot toggle freezer: cgroups not configured for container")
        } else {
            throw RuntimeError.other("cannot \(frozen ? "pause" : "resume"): no freezer cgroup on this host")
        }
    }

    /// Freezing is asynchronous: FREEZING until every task has stopped.
    private static func waitFor(_ file: String, _ text: String) throws {
        for _ in 0..<1000 {
            if let s = try? FS.readString(file), s.split(separator: "\n").contains(Substring(text)) { return }
            usleep(1000)
        }
        throw RuntimeError.other("cgroup \(file) did not reach \"\(text)\"")
    }
}

extension Runtime {
    /// `apus pause`: like runc, a created or running container can be paused.
    public func pause(id: String) throws {
        let dir = try store.open(id)
        try dir.lock()
        let record = try dir.load()
        switch record.currentStatus(dir: dir) {
        case .running, .created: try Freezer.set(record.cgroupPaths, frozen: true)
        default: throw RuntimeError.other("container not running") // runc says this for paused too
        }
    }

    public func resume(id: String) throws {
        let dir = try store.open(id)
        try dir.lock()
        let record = try dir.load()
        guard record.currentStatus(dir: dir) == .paused else { throw RuntimeError.other("container not paused") }
        try Freezer.set(record.cgroupPaths, frozen: false)
    }
}
