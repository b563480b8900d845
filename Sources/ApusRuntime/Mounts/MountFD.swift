import CApusShim
import Glibc

/// The new mount API (linux/mount.h, fcntl.h): mounts made detached, set up
/// through their fd and moved onto an fd, so no path is resolved twice.
enum MountFD {
    static let clone: UInt32 = 1 // OPEN_TREE_CLONE
    static let recursive: UInt32 = 0x8000 // AT_RECURSIVE
    static let emptyPath: UInt32 = 0x1000 // AT_EMPTY_PATH
    // MOUNT_ATTR_*
    static let rdonly: UInt64 = 0x1, nosuid: UInt64 = 0x2, nodev: UInt64 = 0x4, noexec: UInt64 = 0x8
    static let atimeMask: UInt64 = 0x70, relatime: UInt64 = 0, noatime: UInt64 = 0x10, strictatime: UInt64 = 0x20
    static let nodiratime: UInt64 = 0x80, idmap: UInt64 = 0x10_0000, nosymfollow: UInt64 = 0x20_0000

    /// mount_setattr(2) on the mount `fd` names (and all below it when
    /// `recursive`); nothing to do is no call.
    static func setAttrs(_ fd: Int32, _ attrs: MountAttrs, recursive: Bool, propagation: UInt64 = 0,
                         step: String, what: String) throws {
        guard !attrs.isEmpty || propagation != 0 else { return }
        if apus_mount_setattr(fd, recursive ? 1 : 0, attrs.set, attrs.clear, propagation, -1) < 0 {
            let err = errno
            var call = "mount_setattr(\(what), \(describe(attrs, propagation: propagation))\(recursive ? ", AT_RECURSIVE" : ""))"
            if err == EINVAL && (attrs.set | attrs.clear) & nosymfollow != 0 { call += " [nosymfollow needs Linux 5.14]" }
            throw RuntimeError.syscall(step: step, call: call, errno: err)
        }
    }

    /// A propagation option (MS_SHARED, ... | MS_REC) on the mount `fd` names.
    static func setPropagation(_ fd: Int32, _ flag: UInt64, step: String, what: String) throws {
        let rec = UInt64(MS_REC)
        try setAttrs(fd, MountAttrs(), recursive: flag & rec != 0, propagation: flag & ~rec, step: "\(step): propagation", what: what)
    }

    static func move(_ mount: Int32, onto target: Int32, step: String, what: String) throws {
        try check(apus_move_mount_fd(mount, target), step, "move_mount(\(what))")
    }

    static func describe(_ attrs: MountAttrs, propagation: UInt64 = 0) -> String {
        let names: [(UInt64, String)] = [(rdonly, "ro"), (nosuid, "nosuid"), (nodev, "nodev"), (noexec, "noexec"),
                                         (nodiratime, "nodiratime"), (nosymfollow, "nosymfollow"), (idmap, "idmap")]
        func list(_ bits: UInt64) -> String { names.filter { bits & $0.0 != 0 }.map { $0.1 }.joined(separator: "|") }
        var parts: [String] = []
        var set = list(attrs.set)
        if attrs.clear & atimeMask != 0 {
            let mode = attrs.set & atimeMask
            set += (set.isEmpty ? "" : "|") + (mode == noatime ? "noatime" : mode == strictatime ? "strictatime" : "relatime")
        }
        if !set.isEmpty { parts.append("set=" + set) }
        let clear = list(attrs.clear)
        if !clear.isEmpty { parts.append("clear=" + clear) }
        let props: [(Int, String)] = [(MS_SHARED, "shared"), (MS_SLAVE, "slave"), (MS_PRIVATE, "private"), (MS_UNBINDABLE, "unbindable")]
        if let p = props.first(where: { UInt64($0.0) == propagation }) { parts.append("propagation=" + p.1) }
        return parts.joined(separator: ", ")
    }
}
