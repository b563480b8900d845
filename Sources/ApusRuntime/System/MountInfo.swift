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

    public var isShared: Bool { optionalFields.contains { $0.hasPrefix("shared:") } }

    /// Neither the mount nor its filesystem is read-only.
    public var isWritable: Bool { !options.contains("ro") && !superOptions.contains("ro") }

    /// Entries in mount order; malformed lines are skipped.
    public static func parse(_ text: String) -> [MountEntry] {
        var out: [MountEntry] = []
        for line in text.split(separator: "\n") {
            let halves = line.split(separator: " - ", maxSplits: 1)
            guard halves.count == 2 else { continue }
            let pre = halves[0].split(separator: " ")
            let post = halves[1].split(separator: " ")
            guard pre.count >= 6, post.count >= 3 else { continue }
            out.append(MountEntry(majorMinor: String(pre[2]), root: unescape(String(pre[3])),
                                  mountPoint: unescape(String(pre[4])), options: pre[5].split(separator: ",").map(String.init),
                                  optionalFields: pre[6...].map(String.init), fsType: String(post[0]),
                                  source: unescape(String(post[1])),
                                  superOptions: post[2].split(separator: ",").map(String.init)))
        }
        return out
    }

    /// For each mount of a table (in mountinfo order, which is the order
    /// they were made), whether a later mount on its mount point or on a
    /// directory above it hides it from every path lookup.
    public static func hidden(_ mounts: [MountEntry]) -> [Bool] {
        mounts.indices.map { i in
            let p = mounts[i].mountPoint
            return mounts[(i + 1)...].contains { later in
                let q = later.mountPoint
                return q == p || q == "/" || p.hasPrefix(q + "/")
            }
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
