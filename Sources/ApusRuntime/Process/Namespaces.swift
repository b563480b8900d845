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

/// Writes the user namespace's id maps from outside it, as the kernel requires.
enum IDMaps {
    static func write(pid: Int32, uid uidMappings: [IDMapping]?, gid gidMappings: [IDMapping]?) throws {
        let uid = mapText(uidMappings)
        let gid = mapText(gidMappings)
        if !uid.isEmpty { try FS.write("/proc/\(pid)/uid_map", uid) }
        if !gid.isEmpty { try FS.write("/proc/\(pid)/gid_map", gid) }
    }

    static func mapText(_ maps: [IDMapping]?) -> String {
        (maps ?? []).map { "\($0.containerID) \($0.hostID) \($0.size)\n" }.joined()
    }
}
