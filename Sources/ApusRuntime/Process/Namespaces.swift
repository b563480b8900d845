import ApusSpec
import CApusShim
import Glibc

/// Which namespaces the container creates and which it joins by path, in
/// the order the kernel needs: a joined user namespace first, so the other
/// joins and creations happen with its credentials.
struct NamespacePlan {
    var create: [NamespaceType] = []
    var join: [(type: NamespaceType, path: String)] = []

    init(_ spec: Spec) {
        for ns in spec.linux?.namespaces ?? [] {
            if let path = ns.path, !path.isEmpty { join.append((ns.type, path)) } else { create.append(ns.type) }
        }
        join = Self.userFirst(join)
    }

    /// Joining the user namespace first lets the other joins (and
    /// creations) happen with its credentials.
    static func userFirst(_ list: [(type: NamespaceType, path: String)]) -> [(type: NamespaceType, path: String)] {
        list.filter { $0.type == .user } + list.filter { $0.type != .user }
    }

    func creates(_ t: NamespaceType) -> Bool { create.contains(t) }
    func joins(_ t: NamespaceType) -> Bool { join.contains { $0.type == t } }
    /// Not in a namespace of this type of its own: shares the host's.
    func shares(_ t: NamespaceType) -> Bool { !creates(t) && !joins(t) }

    var cloneFlags: Int32 { create.reduce(0) { $0 | $1.cloneFlag } }

    /// "monotonic S N\nboottime S N\n" for /proc/self/timens_offsets.
    static func timeOffsets(_ spec: Spec) -> String {
        var text = ""
        for (clock, off) in (spec.linux?.timeOffsets ?? [:]).sorted(by: { $0.key < $1.key }) {
            text += "\(clock) \(off.secs ?? 0) \(off.nanosecs ?? 0)\n"
        }
        return text
    }
}

/// Writes the user namespace's id maps from outside it, as the kernel
/// requires. Root writes them itself; an unprivileged user may write only
/// a map of its own id (after denying setgroups), anything more goes
/// through the setuid newuidmap/newgidmap, which check /etc/subuid and
/// /etc/subgid (runc does the same).
enum IDMaps {
    static func write(pid: Int32, uid uidMappings: [IDMapping]?, gid gidMappings: [IDMapping]?) throws {
        let euid = geteuid(), egid = getegid()
        try write(pid: pid, uidMappings, file: "uid_map", tool: euid == 0 || writesDirectly(uidMappings, own: euid) ? nil : "newuidmap")
        if !mapText(gidMappings).isEmpty, euid != 0, writesDirectly(gidMappings, own: egid) {
            try FS.write("/proc/\(pid)/setgroups", "deny")
        }
        try write(pid: pid, gidMappings, file: "gid_map", tool: euid == 0 || writesDirectly(gidMappings, own: egid) ? nil : "newgidmap")
    }

    private static func write(pid: Int32, _ maps: [IDMapping]?, file: String, tool: String?) throws {
        let text = mapText(maps)
        guard !text.isEmpty else { return }
        guard let tool else { return try FS.write("/proc/\(pid)/\(file)", text) }
        guard let path = mappingTool(tool) else {
            throw RuntimeError.other("writing \(file): \(tool) not found (Debian package uidmap)")
        }
        let args = [path, String(pid)] + (maps ?? []).flatMap { [String($0.containerID), String($0.hostID), String($0.size)] }
        let (status, output) = try Subprocess.capture(args, stderr: true)
        if status != 0 {
            let text = output.split(separator: "\n").joined(separator: "; ")
            throw RuntimeError.other("writing \(file) with \(tool): \(Hooks.describe(status: status))\(text.isEmpty ? "" : ": " + text)")
        }
    }

    /// An unprivileged user writes a map itself only when it maps its own id alone.
    static func writesDirectly(_ maps: [IDMapping]?, own: UInt32) -> Bool {
        guard let maps, maps.count == 1 else { return maps?.isEmpty ?? true }
        return maps[0].hostID == own && maps[0].size == 1
    }

    /// newuidmap/newgidmap from PATH, else /usr/bin.
    static func mappingTool(_ name: String) -> String? {
        let dirs = (getenv("PATH").map { String(cString: $0) } ?? "").split(separator: ":").map(String.init) + ["/usr/bin"]
        return dirs.map { FS.join($0, name) }.first { access($0, X_OK) == 0 }
    }

    static func mapText(_ maps: [IDMapping]?) -> String {
        (maps ?? []).map { "\($0.containerID) \($0.hostID) \($0.size)\n" }.joined()
    }
}
