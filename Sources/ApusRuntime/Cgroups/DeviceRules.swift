import ApusSpec

/// Device access as the devices cgroup and the eBPF device context both
/// count it (BPF_DEVCG_ACC_MKNOD = 1, READ = 2, WRITE = 4).
struct DeviceAccess: OptionSet, Hashable {
    let rawValue: UInt8
    static let mknod = DeviceAccess(rawValue: 1)
    static let read = DeviceAccess(rawValue: 2)
    static let write = DeviceAccess(rawValue: 4)
    static let all: DeviceAccess = [.read, .write, .mknod]

    init(rawValue: UInt8) { self.rawValue = rawValue }

    /// runc's reading of an access string: r, w and m count, any other
    /// letter is ignored ("rwa" is "rw"). Absent or empty is every access
    /// (runc refuses those; validation rejects a string with none of r, w, m).
    init(_ text: String?) {
        guard let text, !text.isEmpty else { self = .all; return }
        self = []
        for c in text {
            switch c {
            case "r": insert(.read)
            case "w": insert(.write)
            case "m": insert(.mknod)
            default: continue
            }
        }
    }

    /// "rwm" order, as devices.list prints it.
    var text: String {
        (contains(.read) ? "r" : "") + (contains(.write) ? "w" : "") + (contains(.mknod) ? "m" : "")
    }
}

/// What a device rule names: a type and a major:minor, nil meaning any.
struct DeviceMatch: Hashable, Comparable {
    enum Kind: UInt8 {
        // The values are the eBPF context's BPF_DEVCG_DEV_BLOCK / _CHAR.
        case block = 1, char = 2
        var letter: String { self == .block ? "b" : "c" }
    }

    var kind: Kind
    var major: UInt32?
    var minor: UInt32?

    /// "c 1:3", "b *:*".
    var text: String {
        "\(kind.letter) \(major.map(String.init) ?? "*"):\(minor.map(String.init) ?? "*")"
    }

    /// `self` names every device `other` does (and maybe more).
    func covers(_ other: DeviceMatch) -> Bool {
        kind == other.kind && (major == nil || major == other.major) && (minor == nil || minor == other.minor)
    }

    /// By major, minor, then type, wildcards first (runc's order), so the
    /// same rules are always written in the same order.
    static func < (a: DeviceMatch, b: DeviceMatch) -> Bool {
        let ka = (a.major.map { Int64($0) } ?? -1, a.minor.map { Int64($0) } ?? -1, a.kind.rawValue)
        let kb = (b.major.map { Int64($0) } ?? -1, b.minor.map { Int64($0) } ?? -1, b.kind.rawValue)
        return ka < kb
    }
}

/// One rule as the devices cgroup takes it: allow or deny `access` to the
/// devices `match` names, or to every device (`match` nil: type "a",
/// which resets the cgroup to allow-all or deny-all).
struct DeviceRule: Equatable {
    var allow: Bool
    var match: DeviceMatch?
    var access: DeviceAccess = .all
    /// Where the rule came from, for errors: its JSON path (nil for the
    /// rules every container gets).
    var source: String?

    /// The line for devices.allow / devices.deny.
    var line: String { match.map { "\($0.text) \(access.text)" } ?? "a *:* rwm" }

    static func == (a: DeviceRule, b: DeviceRule) -> Bool {
        a.allow == b.allow && a.match == b.match && a.access == b.access
    }
}

/// The rule list a container's devices cgroup (v1) or device program (v2)
/// enforces, as runc 1.1 builds it: `linux.resources.devices` in order,
/// then runc's default devices. A `linux.devices` entry gets no access of
/// its own (as in runc and crun): the config allows it, as podman's and
/// containerd's do.
enum DeviceRules {
    /// Devices every container may use whatever its rules say (runc's
    /// AllowedDevices): mknod of any node; null, zero, full, random,
    /// urandom, tty, ptmx, the pty slaves and tun.
    static let defaults: [DeviceRule] = [
        rule(.char, nil, nil, [.mknod]), rule(.block, nil, nil, [.mknod]),
        rule(.char, 1, 3), rule(.char, 1, 8), rule(.char, 1, 7), rule(.char, 5, 0),
        rule(.char, 1, 5), rule(.char, 1, 9), rule(.char, 136, nil), rule(.char, 5, 2), rule(.char, 10, 200),
    ]

    private static func rule(_ kind: DeviceMatch.Kind, _ major: UInt32?, _ minor: UInt32?,
                             _ access: DeviceAccess = .all) -> DeviceRule {
        DeviceRule(allow: true, match: DeviceMatch(kind: kind, major: major, minor: minor), access: access)
    }

    static func list(_ rules: [DeviceCgroupRule]?) -> [DeviceRule] {
        (rules ?? []).enumerated().map { i, r in
            DeviceRule(allow: r.allow, match: match(r), access: DeviceAccess(r.access), source: "linux.resources.devices[\(i)]")
        } + defaults
    }

    /// A spec rule's match; nil for type "a" (or none), which names every device.
    private static func match(_ r: DeviceCgroupRule) -> DeviceMatch? {
        switch r.type {
        case "b": return DeviceMatch(kind: .block, major: number(r.major), minor: number(r.minor))
        case "c": return DeviceMatch(kind: .char, major: number(r.major), minor: number(r.minor))
        default: return nil
        }
    }

    /// A major or minor: absent or -1 is any (as in runc); validation
    /// keeps the rest within 0...UInt32.max.
    private static func number(_ n: Int64?) -> UInt32? {
        guard let n, n >= 0 else { return nil }
        return UInt32(truncatingIfNeeded: n)
    }

    /// The state the rules leave a devices cgroup in, starting from deny-all
    /// as runc does (so a config without rules gets only the defaults).
    static func target(_ rules: [DeviceCgroupRule]?) throws -> DeviceState {
        var state = DeviceState()
        for r in list(rules) {
            guard let problem = state.apply(r) else { continue }
            throw RuntimeError.unsupported(path: r.source ?? "linux.resources.devices",
                                           reason: r.source == nil ? "runc's default devices: " + problem : problem)
        }
        return state
    }

    /// Applies the rules to the container's cgroup: the v1 devices
    /// controller where the host has one, else an eBPF program on its
    /// cgroup v2 directory. Also the way to re-apply them to a running
    /// container (`update`): v1 writes only the difference from what the
    /// cgroup has, v2 attaches the new program before detaching the old,
    /// so a device allowed before and after is never denied in between.
    static func apply(_ rules: [DeviceCgroupRule]?, paths: [String: String]) throws {
        let target = try target(rules)
        if let dir = Cgroups.v1Dir(paths, "devices") {
            try DevicesV1.apply(target, dir: dir)
        } else if let dir = paths["unified"] {
            try BPF.replaceDeviceProgram(in: dir, with: DeviceProgram.build(target))
        } else if !(rules ?? []).isEmpty {
            // Rules asked for and nowhere to enforce them (a rootless
            // container without a delegated cgroup): never a silent skip.
            throw noController
        }
    }

    static let noController = RuntimeError.unsupported(
        path: "linux.resources.devices",
        reason: "no devices cgroup controller and no cgroup v2 on this host: device access cannot be restricted")

    /// What `apply` would refuse, found without touching anything (`apus check`).
    static func problems(_ rules: [DeviceCgroupRule]?, hierarchies: [Cgroups.Hierarchy]) -> [RuntimeError] {
        var out: [RuntimeError] = []
        do { _ = try target(rules) } catch let e as RuntimeError { out.append(e) } catch {}
        let v1 = hierarchies.contains { $0.key != "unified" && $0.key.split(separator: ",").contains("devices") }
        if !(rules ?? []).isEmpty, !v1, !hierarchies.contains(where: { $0.key == "unified" }) { out.append(noController) }
        return out
    }
}
