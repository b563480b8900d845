import Glibc

/// The `options` of a spec mount split into mount(2) flags, propagation
/// flags (applied by a separate mount call) and the filesystem data string.
struct MountOptions: Equatable {
    var flags: UInt = 0
    var propagation: [UInt] = []
    var data: [String] = []
    var isBind: Bool { flags & UInt(MS_BIND) != 0 }

    // Arrays, not dictionaries: ~40 entries are found faster by a scan than
    // by hashing, and building a Dictionary cost `apus features` measurable
    // startup time.
    static let flagTable: [(name: String, set: Bool, flag: UInt)] = [
        ("ro", true, UInt(MS_RDONLY)), ("rw", false, UInt(MS_RDONLY)),
        ("nosuid", true, UInt(MS_NOSUID)), ("suid", false, UInt(MS_NOSUID)),
        ("nodev", true, UInt(MS_NODEV)), ("dev", false, UInt(MS_NODEV)),
        ("noexec", true, UInt(MS_NOEXEC)), ("exec", false, UInt(MS_NOEXEC)),
        ("sync", true, UInt(MS_SYNCHRONOUS)), ("async", false, UInt(MS_SYNCHRONOUS)),
        ("dirsync", true, UInt(MS_DIRSYNC)),
        ("remount", true, UInt(MS_REMOUNT)),
        ("mand", true, UInt(MS_MANDLOCK)), ("nomand", false, UInt(MS_MANDLOCK)),
        ("atime", false, UInt(MS_NOATIME)), ("noatime", true, UInt(MS_NOATIME)),
        ("diratime", false, UInt(MS_NODIRATIME)), ("nodiratime", true, UInt(MS_NODIRATIME)),
        ("relatime", true, UInt(MS_RELATIME)), ("norelatime", false, UInt(MS_RELATIME)),
        ("strictatime", true, UInt(MS_STRICTATIME)), ("nostrictatime", false, UInt(MS_STRICTATIME)),
        ("lazytime", true, UInt(MS_LAZYTIME)), ("nolazytime", false, UInt(MS_LAZYTIME)),
        ("silent", true, UInt(MS_SILENT)), ("loud", false, UInt(MS_SILENT)),
        ("bind", true, UInt(MS_BIND)), ("rbind", true, UInt(MS_BIND) | UInt(MS_REC)),
    ]

    static let propagationTable: [(name: String, flag: UInt)] = [
        ("private", UInt(MS_PRIVATE)), ("rprivate", UInt(MS_PRIVATE) | UInt(MS_REC)),
        ("shared", UInt(MS_SHARED)), ("rshared", UInt(MS_SHARED) | UInt(MS_REC)),
        ("slave", UInt(MS_SLAVE)), ("rslave", UInt(MS_SLAVE) | UInt(MS_REC)),
        ("unbindable", UInt(MS_UNBINDABLE)), ("runbindable", UInt(MS_UNBINDABLE) | UInt(MS_REC)),
    ]

    static func propagation(_ name: String) -> UInt? {
        propagationTable.first { $0.name == name }?.flag
    }

    static var knownNames: [String] { (flagTable.map { $0.name } + propagationTable.map { $0.name }).sorted() }

    init(_ options: [String]) {
        for opt in options {
            if let (_, set, flag) = Self.flagTable.first(where: { $0.name == opt }) {
                if set { flags |= flag } else { flags &= ~flag }
            } else if let p = Self.propagation(opt) {
                propagation.append(p)
            } else {
                data.append(opt)
            }
        }
    }

    var dataString: String { data.joined(separator: ",") }
}
