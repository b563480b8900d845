import Glibc

/// One line of /proc/self/mountinfo (proc(5)): the only parser of it.
public struct MountEntry: Equatable {
    /// The filesystem's device ("254:0"): two mounts with the same one show
    /// the same filesystem (a bind mount shows its source's).
    public var majorMinor: String
    /// The root of the mount within its filesystem (a bind's subdirectory).
    public var root: String
    public var mountPoint: String
    /// Per-mount options ("ro", "nosuid", ...), as opposed to the superblock's.
    public var options: [String]
    /// "shared:N", "master:N", ... (empty for a private mount).
    public var optionalFields: [String]
    public var fsType: String
    public var source: String
    public var superOptions: [String]
    /// This mount's ID and the ID of the mount it sits on (fields 1 and 2).
    public var id = 0
    public var parentID = 0

    public var isShared: Bool { optionalFields.contains { $0.hasPrefix("shared:") } }

    /// Neither the mount nor its filesystem is read-only.
    public var isWritable: Bool { !options.contains("ro") && !superOptions.contains("ro") }

    /// Entries in mount order; malformed lines are skipped. Works on the
    /// bytes: splitting on the " - " separator as a string cost more than
    /// the rest of `apus inspect`.
    public static func parse(_ text: String) -> [MountEntry] {
        var out: [MountEntry] = []
        for line in text.utf8.split(separator: UInt8(ascii: "\n")) {
            let f = line.split(separator: UInt8(ascii: " "))
            // 6 fields, optional fields, "-", type, source, super options.
            guard let dash = f.firstIndex(where: { $0.count == 1 && $0.first == UInt8(ascii: "-") }),
                  dash >= 6, f.count >= dash + 4 else { continue }
            func text(_ i: Int) -> String { String(decoding: f[i], as: UTF8.self) }
            func list(_ i: Int) -> [String] { f[i].split(separator: UInt8(ascii: ",")).map { String(decoding: $0, as: UTF8.self) } }
            var e = MountEntry(majorMinor: text(2), root: unescape(text(3)), mountPoint: unescape(text(4)), options: list(5),
                               optionalFields: (6..<dash).map(text), fsType: text(dash + 1),
                               source: unescape(text(dash + 2)), superOptions: list(dash + 3))
            e.id = Int(text(0)) ?? 0
            e.parentID = Int(text(1)) ?? 0
            out.append(e)
        }
        return out
    }

    /// For each mount of a table, whether path lookups never reach it: it,
    /// or a mount it sits on, is covered by a mount that is not on its way
    /// (one on the same parent at its mount point or above it, or one
    /// stacked on it). The mount IDs tell, not the table's order: a mount
    /// made detached and moved onto an fd (as apus makes them) is listed
    /// before mounts made later under it.
    public static func hidden(_ mounts: [MountEntry]) -> [Bool] {
        func covers(_ n: MountEntry, _ c: MountEntry) -> Bool {
            if n.parentID == c.id { return n.mountPoint == c.mountPoint }
            guard n.parentID == c.parentID else { return false }
            return n.mountPoint == c.mountPoint || n.mountPoint == "/" || c.mountPoint.hasPrefix(n.mountPoint + "/")
        }
        return mounts.map { m in
            var chain = [m]
            while let p = mounts.first(where: { $0.id == chain[chain.count - 1].parentID }), !chain.contains(where: { $0.id == p.id }) {
                chain.append(p)
            }
            return chain.contains { c in mounts.contains { n in !chain.contains { $0.id == n.id } && covers(n, c) } }
        }
    }

    /// This process's mounts (empty if /proc cannot be read).
    public static func current() -> [MountEntry] {
        parse((try? FS.readString("/proc/self/mountinfo")) ?? "")
    }

    /// mountinfo escapes space, tab, newline and backslash as octal (\040).
    static func unescape(_ s: String) -> String {
        guard s.contains("\\") else { return s }
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let c = it.popFirst() {
            if c == UInt8(ascii: "\\"), it.count >= 3, let v = UInt8(String(decoding: it.prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(v)
                it = it.dropFirst(3)
            } else {
                bytes.append(c)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
