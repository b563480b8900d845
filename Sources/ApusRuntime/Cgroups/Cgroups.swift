import ApusSpec
import CApusShim
import Glibc

/// Finds the cgroup hierarchies (v1, v2 or the hybrid of both) from
/// /proc/self/mountinfo and manages one container's cgroup in each.
/// Keys of a path map: the v1 controller list as mounted ("cpu",
/// "cpu,cpuacct", "name=systemd") or "unified" for cgroup2.
public enum Cgroups {
    public enum Layout: String { case v1, v2, hybrid, none }

    public struct Hierarchy {
        public var key: String
        public var mountPoint: String
        /// The cgroup shown at the mount point ("/" unless a sub-cgroup was
        /// bind-mounted there, as inside a container without a cgroup namespace).
        public var root: String = "/"
    }

    public static func hierarchies(mountinfo: String? = nil) -> [Hierarchy] {
        hierarchies(mounts: mountinfo.map(MountEntry.parse) ?? MountEntry.current())
    }

    public static func hierarchies(mounts: [MountEntry]) -> [Hierarchy] {
        var out: [Hierarchy] = []
        for m in mounts {
            switch m.fsType {
            case "cgroup2":
                out.append(Hierarchy(key: "unified", mountPoint: m.mountPoint, root: m.root))
            case "cgroup":
                let controllers = m.superOptions.filter {
                    $0 != "rw" && $0 != "ro" && !$0.hasPrefix("clone_children") && $0 != "noprefix"
                        && !$0.hasPrefix("release_agent") && $0 != "xattr"
                }
                if !controllers.isEmpty {
                    // Not joined(separator:): unspecialized, it looks up the
                    // Element type at run time (a scan of every conformance).
                    var key = controllers[0]
                    for c in controllers.dropFirst() { key += "," + c }
                    out.append(Hierarchy(key: key, mountPoint: m.mountPoint, root: m.root))
                }
            default: continue
            }
        }
        // A hierarchy mounted twice (a bind in a container, say) counts once.
        var seen = Set<String>()
        return out.filter { seen.insert($0.key).inserted }
    }

    public static func layout(_ hs: [Hierarchy]) -> Layout {
        let v2 = hs.contains { $0.key == "unified" }
        let v1 = hs.contains { $0.key != "unified" }
        return v1 ? (v2 ? .hybrid : .v1) : (v2 ? .v2 : .none)
    }

    /// This process's cgroup in each hierarchy, from /proc/self/cgroup.
    static func ownPaths() -> [String: String] {
        membership((try? FS.readString("/proc/self/cgroup")) ?? "")
    }

    /// A /proc/PID/cgroup text as hierarchy key → cgroup path (as the
    /// reader's cgroup namespace shows it): "4:memory:/a" → "memory": "/a",
    /// "0::/a" → "unified": "/a".
    static func membership(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            out[parts[0] == "0" && parts[1].isEmpty ? "unified" : String(parts[1])] = String(parts[2])
        }
        return out
    }

    /// The container's cgroup directory in every hierarchy. Like runc's
    /// cgroupfs drivers: an absolute cgroupsPath is taken from each
    /// hierarchy's root, a relative one (or the container id when none is
    /// given) from Apus's own cgroup — on pure v2 from its parent, since
    /// Apus's own cgroup holds processes and so cannot delegate controllers.
    public static func paths(cgroupsPath: String?, id: String,
                             hierarchies hs: [Hierarchy] = hierarchies()) throws -> [String: String] {
        let inner = cgroupsPath.flatMap { $0.isEmpty ? nil : $0 } ?? id
        let parts = inner.split(separator: "/")
        if parts.contains("..") || parts.contains(".") {
            throw RuntimeError.unsupported(path: "linux.cgroupsPath", reason: "must not contain \".\" or \"..\"")
        }
        // "/" would be every hierarchy's root: removing the container's
        // cgroup kills what it holds, and that would be every process.
        if parts.isEmpty {
            throw RuntimeError.unsupported(path: "linux.cgroupsPath", reason: "must name a cgroup below the hierarchy's root")
        }
        let own = inner.hasPrefix("/") ? [:] : ownPaths()
        let pureV2 = layout(hs) == .v2
        var out: [String: String] = [:]
        for h in hs {
            var base = visible(own[h.key] ?? "/", under: h.root)
            if pureV2 && base != "/" { base = FS.dirname(base) }
            out[h.key] = FS.join(FS.join(h.mountPoint, base), inner)
        }
        return out
    }

    /// The v1 directory of the hierarchy holding `controller` (keys can be
    /// "cpu", "cpu,cpuacct", ...).
    static func v1Dir(_ paths: [String: String], _ controller: String) -> String? {
        paths.first { $0.key.split(separator: ",").contains(Substring(controller)) }?.value
    }

    /// A process's cgroup directory in each hierarchy, from its
    /// /proc/PID/cgroup text (read in our cgroup namespace).
    static func directories(membership text: String, hierarchies: [Hierarchy]) -> [String: String] {
        let member = membership(text)
        var out: [String: String] = [:]
        for h in hierarchies {
            guard let path = member[h.key] else { continue }
            out[h.key] = FS.join(h.mountPoint, visible(path, under: h.root))
        }
        return out
    }

    /// A cgroup path as seen below a mount whose root is `root`.
    static func visible(_ path: String, under root: String) -> String {
        if root == "/" { return path }
        if path == root { return "/" }
        if path.hasPrefix(root + "/") { return String(path.dropFirst(root.count)) }
        return path
    }

    /// On cgroup v2 a controller's files appear in a cgroup only once every
    /// ancestor lists it in cgroup.subtree_control. Returns false when the
    /// controller is not available at all.
    static func enableV2Controller(_ name: String, for dir: String) throws -> Bool {
        guard let h = hierarchies().first(where: { $0.key == "unified" }), dir.hasPrefix(h.mountPoint) else { return false }
        var ancestors: [String] = []
        var d = FS.dirname(dir)
        while d.count >= h.mountPoint.count {
            ancestors.insert(d, at: 0)
            if d == h.mountPoint { break }
            d = FS.dirname(d)
        }
        for a in ancestors {
            let available = (try? FS.readString(a + "/cgroup.controllers")) ?? ""
            guard available.split(whereSeparator: { $0 == " " || $0 == "\n" }).contains(Substring(name)) else { return false }
            let enabled = (try? FS.readString(a + "/cgroup.subtree_control")) ?? ""
            if !enabled.split(whereSeparator: { $0 == " " || $0 == "\n" }).contains(Substring(name)) {
                try FS.write(a + "/cgroup.subtree_control", "+" + name)
            }
        }
        return true
    }

    public static func create(_ paths: [String: String]) throws {
        for (key, dir) in paths.sorted(by: { $0.key < $1.key }) {
            // One mkdir when the parent exists (the usual case), not a stat of each level first.
            if mkdir(dir, 0o755) < 0 && errno != EEXIST { try FS.mkdirAll(dir) }
            if key.split(separator: ",").contains("cpuset") { try inheritCpuset(dir) }
        }
    }

    /// A new v1 cpuset starts with no cpus or mems, and joining it fails
    /// with ENOSPC: fill empty ones from the parent, top-down.
    static func inheritCpuset(_ dir: String) throws {
        let parent = FS.dirname(dir)
        guard FS.exists(parent + "/cpuset.cpus") else { return }
        try inheritCpuset(parent)
        for file in ["cpuset.cpus", "cpuset.mems"] {
            let current = try FS.readString(dir + "/" + file)
            if current.allSatisfy({ $0 == "\n" || $0 == " " }) {
                try FS.write(dir + "/" + file, try FS.readString(parent + "/" + file))
            }
        }
    }

    public static func join(pid: Int32, _ paths: [String: String]) throws {
        for (_, dir) in paths.sorted(by: { $0.key < $1.key }) {
            try FS.write(dir + "/cgroup.procs", String(pid))
        }
    }

    /// Pids in the container's cgroup and its sub-cgroups (`exec --cgroup`),
    /// from whichever hierarchy lists them.
    public static func pids(_ paths: [String: String]) -> [Int32] {
        for key in ["pids", "unified", "memory", "freezer", "cpu", "devices"] {
            guard let dir = paths[key], isBelowRoot(dir), FS.exists(dir + "/cgroup.procs") else { continue }
            return subtree(dir).flatMap(procs)
        }
        return []
    }

    /// Removes the cgroups (and sub-cgroups) once their processes are gone,
    /// without killing any: waits a little for a dying pid namespace, then
    /// returns the first directory still busy (nil when all are gone).
    static func removeIfEmpty(_ paths: [String: String]) throws -> String? {
        for (_, dir) in paths where FS.exists(dir) && !isBelowRoot(dir) {
            throw RuntimeError.unsafe(step: "removing cgroup", reason: "\(dir) is not a cgroup below a hierarchy's root")
        }
        var busy: String?
        for attempt in 0..<50 {
            busy = nil
            // An empty cgroup with no children (the usual case) goes at the
            // first rmdir, without listing its files.
            for (_, dir) in paths where rmdir(dir) < 0 && errno != ENOENT {
                for sub in subtree(dir) where rmdir(sub) < 0 && errno != ENOENT {
                    busy = busy ?? sub
                }
            }
            if busy == nil { return nil }
            usleep(useconds_t(min(2000 * (attempt + 1), 20000)))
        }
        return busy
    }

    /// "pid:[inode]" of a process's pid namespace (nil if it is gone).
    static func pidNamespace(of pid: Int32) -> String? {
        FS.readLink("/proc/\(pid)/ns/pid")
    }

    /// `dir` and every cgroup below it, deepest first.
    static func subtree(_ dir: String) -> [String] {
        let children = ((try? FS.subdirectories(dir)) ?? []).map { dir + "/" + $0 }
        return children.flatMap(subtree) + [dir]
    }

    static func procs(_ dir: String) -> [Int32] {
        ((try? FS.readString(dir + "/cgroup.procs")) ?? "").split(separator: "\n").compactMap { Int32($0) }
    }

    static let cgroupMagic = 0x0027_e0eb, cgroup2Magic = 0x6367_7270

    /// `dir` is a cgroup directory other than a hierarchy's (or our view's)
    /// root: on a cgroup filesystem, and its parent on the same one. Paths
    /// come from state.json or intent.json; whatever they say, the
    /// destructive walks (kill every member, rmdir the subtree) never start
    /// from a root or from outside cgroupfs.
    static func isBelowRoot(_ dir: String) -> Bool {
        let fd = Glibc.open(dir, APUS_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { Glibc.close(fd) }
        let parent = openat(fd, "..", APUS_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard parent >= 0 else { return false }
        defer { Glibc.close(parent) }
        var st = stat(), pst = stat()
        let magic = Int(apus_fs_magic(fd))
        return (magic == cgroupMagic || magic == cgroup2Magic) && fstat(fd, &st) == 0 && fstat(parent, &pst) == 0
            && st.st_dev == pst.st_dev && Int(apus_fs_magic(parent)) == magic
    }

    public static func isFrozen(paths: [String: String]) -> Bool {
        if let dir = paths["freezer"], let s = try? FS.readString(dir + "/freezer.state") {
            return s.hasPrefix("FROZEN") || s.hasPrefix("FREEZING")
        }
        if let dir = paths["unified"], let s = try? FS.readString(dir + "/cgroup.freeze") {
            return s.hasPrefix("1")
        }
        return false
    }

    /// Removes the container's cgroups with every sub-cgroup its processes
    /// made, killing whatever still runs in them (a kernel cgroup cannot be
    /// removed while it has members or children).
    /// Waits up to about 5 s (runc: 10 s for the init's death): a killed
    /// process leaves its cgroup only once the kernel has torn it down,
    /// which on a loaded machine can take seconds.
    public static func destroy(_ paths: [String: String]) throws {
        for attempt in 0..<250 {
            var busy = false
            for (_, dir) in paths where FS.exists(dir) {
                guard isBelowRoot(dir) else {
                    throw RuntimeError.unsafe(step: "removing cgroup", reason: "\(dir) is not a cgroup below a hierarchy's root")
                }
                if rmdir(dir) == 0 || errno == ENOENT { continue }
                for sub in subtree(dir) {
                    if rmdir(sub) == 0 || errno == ENOENT { continue }
                    if errno != EBUSY {
                        throw RuntimeError.syscall(step: "removing cgroup", call: "rmdir(\(sub))", errno: errno)
                    }
                    busy = true
                    for pid in procs(sub) { Glibc.kill(pid, SIGKILL) }
                }
            }
            if !busy { return }
            usleep(useconds_t(min(2000 * (attempt + 1), 20000)))
        }
        let left = paths.values.filter { FS.exists($0) }.sorted()
        throw RuntimeError.syscall(step: "removing cgroup", call: "rmdir(\(left.joined(separator: ", ")))", errno: EBUSY)
    }
}
