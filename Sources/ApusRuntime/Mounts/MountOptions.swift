import ApusSpec
import Glibc

/// Mount attributes to set and clear with mount_setattr(2) (or to create a
/// mount with, fsmount(2)). The access-time mode is one value of the
/// MOUNT_ATTR__ATIME field: changing it clears the whole field first.
struct MountAttrs: Equatable {
    var set: UInt64 = 0
    var clear: UInt64 = 0

    var isEmpty: Bool { self.set == 0 && clear == 0 }

    mutating func turn(_ attr: UInt64, on: Bool) {
        if on { set |= attr; clear &= ~attr } else { clear |= attr; set &= ~attr }
    }

    mutating func atime(_ mode: UInt64) {
        set = (set & ~MountFD.atimeMask) | mode
        clear |= MountFD.atimeMask
    }

    /// `other` applied after this one.
    func then(_ other: MountAttrs) -> MountAttrs {
        var r = self
        let atime = other.clear & MountFD.atimeMask
        r.set = (r.set & ~other.clear & ~atime) | other.set
        r.clear = (r.clear & ~other.set) | other.clear
        return r
    }
}

/// The `options` of a spec mount, sorted by what applies them: attributes
/// of the mount itself and recursive ones (mount_setattr), superblock flags
/// and filesystem data (fsconfig, new filesystems only), propagation, and
/// the extensions (bind, remount, tmpcopyup, idmap). Every option runc
/// knows has a meaning here or a reason why not; none falls through to be
/// ignored by the kernel (see `problems`).
struct MountOptions {
    enum IDMap: Equatable { case top, recursive }

    var bind = false
    var recursive = false
    var remount = false
    var copyUp = false
    var idmap: IDMap?
    var attrs = MountAttrs()
    var recursiveAttrs = MountAttrs()
    /// fsconfig(2) flags for a new superblock (sync, dirsync, lazytime, ...).
    var superblock: [String] = []
    /// MS_SHARED, MS_SLAVE, ... each with MS_REC for the r* forms.
    var propagation: [UInt64] = []
    /// Filesystem options ("size=64k", "lowerdir=/a:/b", "newinstance").
    var data: [String] = []
    /// Index in `options` of each superblock flag and data option, for errors.
    var superblockAt: [Int] = []
    var dataAt: [Int] = []
    /// Options no mount can honour here: index in `options`, why.
    var unsupported: [(index: Int, reason: String)] = []

    enum Effect {
        case none
        case bind(recursive: Bool)
        case attr(UInt64, on: Bool)
        case atime(UInt64)
        case recursiveAttr(UInt64, on: Bool)
        case recursiveAtime(UInt64)
        /// A superblock flag, passed to fsconfig under this name (nil: nothing to pass).
        case superblock(String?)
        case propagation(UInt64)
        case remount
        case copyUp
        case idmap(IDMap)
        case unsupported(String)
    }

    // An array, not a dictionary: ~70 entries are found fast enough by a
    // scan, and building a Dictionary cost `apus features` measurable
    // startup time.
    static let table: [(name: String, effect: Effect)] = [
        ("defaults", .none),
        ("bind", .bind(recursive: false)), ("rbind", .bind(recursive: true)),
        ("remount", .remount),
        ("ro", .attr(MountFD.rdonly, on: true)), ("rw", .attr(MountFD.rdonly, on: false)),
        ("nosuid", .attr(MountFD.nosuid, on: true)), ("suid", .attr(MountFD.nosuid, on: false)),
        ("nodev", .attr(MountFD.nodev, on: true)), ("dev", .attr(MountFD.nodev, on: false)),
        ("noexec", .attr(MountFD.noexec, on: true)), ("exec", .attr(MountFD.noexec, on: false)),
        ("nosymfollow", .attr(MountFD.nosymfollow, on: true)), ("symfollow", .attr(MountFD.nosymfollow, on: false)),
        ("nodiratime", .attr(MountFD.nodiratime, on: true)), ("diratime", .attr(MountFD.nodiratime, on: false)),
        // The access-time mode is one of relatime (the kernel's default),
        // noatime and strictatime; the negations name the mode they leave.
        ("relatime", .atime(MountFD.relatime)), ("norelatime", .atime(MountFD.strictatime)),
        ("noatime", .atime(MountFD.noatime)), ("atime", .atime(MountFD.relatime)),
        ("strictatime", .atime(MountFD.strictatime)), ("nostrictatime", .atime(MountFD.relatime)),
        ("rro", .recursiveAttr(MountFD.rdonly, on: true)), ("rrw", .recursiveAttr(MountFD.rdonly, on: false)),
        ("rnosuid", .recursiveAttr(MountFD.nosuid, on: true)), ("rsuid", .recursiveAttr(MountFD.nosuid, on: false)),
        ("rnodev", .recursiveAttr(MountFD.nodev, on: true)), ("rdev", .recursiveAttr(MountFD.nodev, on: false)),
        ("rnoexec", .recursiveAttr(MountFD.noexec, on: true)), ("rexec", .recursiveAttr(MountFD.noexec, on: false)),
        ("rnosymfollow", .recursiveAttr(MountFD.nosymfollow, on: true)), ("rsymfollow", .recursiveAttr(MountFD.nosymfollow, on: false)),
        ("rnodiratime", .recursiveAttr(MountFD.nodiratime, on: true)), ("rdiratime", .recursiveAttr(MountFD.nodiratime, on: false)),
        ("rrelatime", .recursiveAtime(MountFD.relatime)), ("rnorelatime", .recursiveAtime(MountFD.strictatime)),
        ("rnoatime", .recursiveAtime(MountFD.noatime)), ("ratime", .recursiveAtime(MountFD.relatime)),
        ("rstrictatime", .recursiveAtime(MountFD.strictatime)), ("rnostrictatime", .recursiveAtime(MountFD.relatime)),
        ("sync", .superblock("sync")), ("async", .superblock("async")),
        ("dirsync", .superblock("dirsync")),
        ("lazytime", .superblock("lazytime")), ("nolazytime", .superblock("nolazytime")),
        ("nomand", .superblock("nomand")),
        // fsopen(2) reports a filesystem's messages to apus (they end up in
        // its error), never in the kernel log: "silent" holds by construction.
        ("silent", .superblock(nil)), ("loud", .superblock(nil)),
        ("mand", .unsupported("mandatory locking was removed in Linux 5.15; the kernel ignores \"mand\"")),
        ("iversion", .unsupported("i_version is decided by each filesystem; the kernel ignores \"iversion\"")),
        ("noiversion", .unsupported("i_version is decided by each filesystem; the kernel ignores \"noiversion\"")),
        ("private", .propagation(UInt64(MS_PRIVATE))), ("rprivate", .propagation(UInt64(MS_PRIVATE) | UInt64(MS_REC))),
        ("shared", .propagation(UInt64(MS_SHARED))), ("rshared", .propagation(UInt64(MS_SHARED) | UInt64(MS_REC))),
        ("slave", .propagation(UInt64(MS_SLAVE))), ("rslave", .propagation(UInt64(MS_SLAVE) | UInt64(MS_REC))),
        ("unbindable", .propagation(UInt64(MS_UNBINDABLE))), ("runbindable", .propagation(UInt64(MS_UNBINDABLE) | UInt64(MS_REC))),
        (TmpCopyUp.option, .copyUp),
        ("idmap", .idmap(.top)), ("ridmap", .idmap(.recursive)),
    ]

    static func propagation(_ name: String) -> UInt64? {
        guard let entry = table.first(where: { $0.name == name }), case .propagation(let flag) = entry.effect else { return nil }
        return flag
    }

    /// What `apus features` lists as mountOptions: every option with an
    /// effect; idmap/ridmap are reported as linux.mountExtensions.idmap (as runc does).
    static var knownNames: [String] {
        table.filter {
            switch $0.effect {
            case .unsupported, .idmap: return false
            default: return true
            }
        }.map { $0.name }.sorted()
    }

    init(_ options: [String]) {
        for (i, opt) in options.enumerated() {
            guard let effect = Self.table.first(where: { $0.name == opt })?.effect else {
                data.append(opt)
                dataAt.append(i)
                continue
            }
            apply(effect, index: i)
        }
    }

    private mutating func apply(_ effect: Effect, index: Int) {
        switch effect {
        case .none: break
        case .bind(let rec): bind = true; recursive = recursive || rec
        case .attr(let a, let on): attrs.turn(a, on: on)
        case .atime(let mode): attrs.atime(mode)
        case .recursiveAttr(let a, let on): recursiveAttrs.turn(a, on: on)
        case .recursiveAtime(let mode): recursiveAttrs.atime(mode)
        case .superblock(let name):
            superblockAt.append(index)
            if let name { superblock.append(name) }
        case .propagation(let p): propagation.append(p)
        case .remount: remount = true
        case .copyUp: copyUp = true
        case .idmap(let kind): idmap = kind
        case .unsupported(let reason): unsupported.append((index, reason))
        }
    }

    /// The attributes of a mount with no submounts (a new filesystem):
    /// the recursive forms apply to it like the plain ones, after them.
    var ownAttrs: MountAttrs { attrs.then(recursiveAttrs) }
}

/// How a spec mount is made, and the options it cannot honour: each an
/// error naming `mounts[i].options[j]` before anything is created.
struct MountRequest {
    enum Kind: Equatable { case bind, cgroup, filesystem }

    let index: Int
    let mount: Mount
    let options: MountOptions
    let kind: Kind

    init(_ m: Mount, index: Int) {
        self.index = index
        mount = m
        options = MountOptions(m.options ?? [])
        let type = m.type ?? ""
        if options.bind || type == "bind" {
            kind = .bind
        } else if type == "cgroup" || type == "cgroup2" {
            kind = .cgroup
        } else {
            kind = .filesystem
        }
    }

    var type: String { mount.type ?? (kind == .bind ? "bind" : "") }
    var path: JSONPath { JSONPath.root.key("mounts").index(index) }
    /// The destination inside the rootfs: a relative one is taken from "/" (as runc does, with a warning).
    var destination: String { mount.destination.hasPrefix("/") ? mount.destination : "/" + mount.destination }
    /// Id-mapped: the idmap/ridmap option or mappings of its own.
    var isIDMapped: Bool { options.idmap != nil || mount.uidMappings != nil || mount.gidMappings != nil }
    /// "ro" on a tmpfs or on /dev waits until everything under it is made (runc's order).
    var defersReadOnly: Bool { type == "tmpfs" || FS.clean(destination) == "/dev" }

    func check() throws {
        if let first = problems.first { throw first }
    }

    /// Every option of this mount that nothing would honour, in option order.
    var problems: [RuntimeError] {
        let opts = mount.options ?? []
        var out: [(index: Int, reason: String)] = options.unsupported
        switch kind {
        case .bind:
            out += options.dataAt.map { ($0, "unknown mount option \(quoted(opts[$0])): a bind mount takes no filesystem options") }
            out += options.superblockAt.map { ($0, "\(quoted(opts[$0])) is a filesystem option: the kernel ignores it on a bind mount") }
        case .cgroup:
            out += (options.dataAt + options.superblockAt).map { ($0, "\(quoted(opts[$0])): cgroup mounts take no filesystem options") }
        case .filesystem:
            break
        }
        var mappings: RuntimeError?
        if kind != .bind, isIDMapped {
            let named = opts.indices.filter { opts[$0] == "idmap" || opts[$0] == "ridmap" }
            out += named.map { ($0, "id-mapped mounts must be bind mounts") }
            if named.isEmpty {
                mappings = .unsupported(path: path.key("uidMappings").description, reason: "id-mapped mounts must be bind mounts")
            }
        }
        if options.copyUp, type != "tmpfs" {
            out += opts.indices.filter { opts[$0] == TmpCopyUp.option }.map { ($0, "tmpcopyup needs a tmpfs mount") }
        }
        if options.remount, isIDMapped || options.copyUp {
            out += opts.indices.filter { opts[$0] == "remount" }.map { ($0, "remount changes an existing mount: no idmap or tmpcopyup with it") }
        }
        let optionsPath = path.key("options")
        let sorted = out.sorted { $0.index < $1.index }
        return sorted.map { .unsupported(path: optionsPath.index($0.index).description, reason: $0.reason) } + (mappings.map { [$0] } ?? [])
    }
}

private func quoted(_ s: String) -> String {
    var out = ""
    JSONWriter.appendQuoted(s, to: &out)
    return out
}
