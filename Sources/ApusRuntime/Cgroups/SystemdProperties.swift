import ApusSpec

/// `linux.resources` as systemd unit properties, the way runc's systemd
/// drivers translate them (libcontainer/cgroups/systemd/v1.go, v2.go). Which
/// names depends on systemd's cgroup mode: on the legacy/hybrid layouts the
/// v1 names (MemoryLimit, CPUShares, BlockIO*), on the unified one the v2
/// names (MemoryMax, CPUWeight, IO*). The cgroup files are written as well
/// (CgroupResources.apply), for what systemd does not manage. Pure.
enum SystemdProperties {
    enum Mode { case legacy, unified }

    /// systemd's "infinity" for a limit.
    static let infinity = UInt64.max

    /// Device type + major → the driver name in /proc/devices ("c", 136 → "pts").
    typealias DeviceNames = (String, Int64) -> String?

    static func resources(_ r: Resources?, devices: [LinuxDevice]?, mode: Mode, deviceNames: DeviceNames) throws -> [DBusValue] {
        var out: [DBusValue] = []
        if let m = r?.memory { out += memory(m, mode: mode) }
        if let c = r?.cpu { out += cpu(c, mode: mode) }
        if let limit = r?.pids?.limit, limit != 0 {
            out.append(.property("TasksMax", .uint64(limit > 0 ? UInt64(limit) : infinity)))
        }
        if let b = r?.blockIO { out += blockIO(b, mode: mode) }
        out += try self.devices(r?.devices, devices: devices, deviceNames: deviceNames)
        return out
    }

    static func memory(_ m: MemoryResources, mode: Mode) -> [DBusValue] {
        func bytes(_ v: Int64) -> DBusValue { .uint64(v < 0 ? infinity : UInt64(v)) }
        var out: [DBusValue] = []
        switch mode {
        case .legacy:
            if let limit = m.limit, limit != 0 { out.append(.property("MemoryLimit", bytes(limit))) }
        case .unified:
            if let limit = m.limit, limit != 0 { out.append(.property("MemoryMax", bytes(limit))) }
            if let low = m.reservation, low != 0 { out.append(.property("MemoryLow", bytes(low))) }
            // The spec's swap is memory+swap; v2's limit is swap alone.
            if let swap = m.swap, swap != 0 {
                if swap < 0 { out.append(.property("MemorySwapMax", .uint64(infinity))) }
                else if let limit = m.limit, limit > 0, swap >= limit {
                    out.append(.property("MemorySwapMax", .uint64(UInt64(swap - limit))))
                }
            }
        }
        return out
    }

    static func cpu(_ c: CPUResources, mode: Mode) -> [DBusValue] {
        var out: [DBusValue] = []
        if let shares = c.shares, shares != 0 {
            out.append(mode == .legacy ? .property("CPUShares", .uint64(shares))
                : .property("CPUWeight", .uint64(cpuWeight(shares: shares))))
        }
        out += cpuQuota(quota: c.quota, period: c.period)
        if let cpus = c.cpus, !cpus.isEmpty, let mask = try? bitmask(cpus) {
            out.append(.property("AllowedCPUs", .array(element: "y", mask.map(DBusValue.byte))))
        }
        if let mems = c.mems, !mems.isEmpty, let mask = try? bitmask(mems) {
            out.append(.property("AllowedMemoryNodes", .array(element: "y", mask.map(DBusValue.byte))))
        }
        return out
    }

    /// runc's conversion of v1 shares (2...262144) to a v2 weight (1...10000).
    static func cpuWeight(shares: UInt64) -> UInt64 {
        1 + ((max(min(shares, 262_144), 2) - 2) * 9999) / 262_142
    }

    /// CPUQuotaPerSecUSec is the quota per second of wall time; systemd
    /// keeps it in whole percent (10 ms), so runc rounds up to that.
    static func cpuQuota(quota: Int64?, period: UInt64?) -> [DBusValue] {
        var out: [DBusValue] = []
        if let period, period != 0 { out.append(.property("CPUQuotaPeriodUSec", .uint64(period))) }
        guard let quota, quota != 0 else { return out }
        var perSec = infinity
        if quota > 0 {
            let p = (period ?? 0) != 0 ? period! : 100_000
            perSec = UInt64(quota) * 1_000_000 / p
            if perSec % 10_000 != 0 { perSec = (perSec / 10_000 + 1) * 10_000 }
        }
        out.append(.property("CPUQuotaPerSecUSec", .uint64(perSec)))
        return out
    }

    /// A cpu or memory-node list ("0-2,4") as systemd's byte mask: bit j of
    /// byte i is id 8i+j.
    static func bitmask(_ list: String) throws -> [UInt8] {
        var mask: [UInt8] = []
        for range in try CPUList.parse(list) {
            for id in range {
                if id / 8 >= mask.count { mask += [UInt8](repeating: 0, count: id / 8 + 1 - mask.count) }
                mask[id / 8] |= UInt8(1) << UInt8(id % 8)
            }
        }
        return mask
    }

    static func blockIO(_ b: BlockIOResources, mode: Mode) -> [DBusValue] {
        var out: [DBusValue] = []
        func devices(_ name: String, _ list: [ThrottleDevice]?) {
            guard let list, !list.isEmpty else { return }
            out.append(.property(name, .array(element: "(st)", list.map {
                .structure([.string("/dev/block/\($0.major):\($0.minor)"), .uint64($0.rate)])
            })))
        }
        switch mode {
        case .legacy:
            if let w = b.weight, w != 0 { out.append(.property("BlockIOWeight", .uint64(UInt64(w)))) }
            if let wd = b.weightDevice?.filter({ $0.weight != nil }), !wd.isEmpty {
                out.append(.property("BlockIODeviceWeight", .array(element: "(st)", wd.map {
                    .structure([.string("/dev/block/\($0.major):\($0.minor)"), .uint64(UInt64($0.weight!))])
                })))
            }
            devices("BlockIOReadBandwidth", b.throttleReadBpsDevice)
            devices("BlockIOWriteBandwidth", b.throttleWriteBpsDevice)
        case .unified:
            // runc's blkio weight (10...1000) → io weight (1...10000).
            func ioWeight(_ w: UInt16) -> UInt64 { 1 + (UInt64(max(w, 10)) - 10) * 9999 / 990 }
            if let w = b.weight, w != 0 { out.append(.property("IOWeight", .uint64(ioWeight(w)))) }
            if let wd = b.weightDevice?.filter({ $0.weight != nil }), !wd.isEmpty {
                out.append(.property("IODeviceWeight", .array(element: "(st)", wd.map {
                    .structure([.string("/dev/block/\($0.major):\($0.minor)"), .uint64(ioWeight($0.weight!))])
                })))
            }
            devices("IOReadBandwidthMax", b.throttleReadBpsDevice)
            devices("IOWriteBandwidthMax", b.throttleWriteBpsDevice)
            devices("IOReadIOPSMax", b.throttleReadIOPSDevice)
            devices("IOWriteIOPSMax", b.throttleWriteIOPSDevice)
        }
        return out
    }

    /// DevicePolicy=strict with a DeviceAllow list, as runc does: systemd
    /// can only express "deny everything, then allow these". Rules that
    /// end in allow-all set nothing (systemd's default lets everything in);
    /// a deny after an allow cannot be expressed and is refused.
    static func devices(_ rules: [DeviceCgroupRule]?, devices: [LinuxDevice]?, deviceNames: DeviceNames) throws -> [DBusValue] {
        guard let rules, !rules.isEmpty else { return [] }
        var allowed: [(type: String, major: Int64?, minor: Int64?, access: String)] = []
        var denyAll = false
        for (i, r) in rules.enumerated() {
            let type = r.type.flatMap { $0.isEmpty ? nil : $0 } ?? "a"
            let access = r.access.flatMap { $0.isEmpty ? nil : $0 } ?? "rwm"
            if type == "a" && r.major == nil && r.minor == nil && access.count == 3 {
                denyAll = !r.allow
                allowed = []
                continue
            }
            guard r.allow, denyAll else {
                throw RuntimeError.unsupported(path: "linux.resources.devices[\(i)]",
                    reason: "systemd can only express allow rules after a deny-all rule (DevicePolicy=strict + DeviceAllow=)")
            }
            allowed.append((type == "a" ? "c" : type, r.major, r.minor, access))
            if type == "a" { allowed.append(("b", r.major, r.minor, access)) }
        }
        guard denyAll else { return [] }
        for entry in DeviceRules.defaults.map(\.line) {
            let f = entry.split(separator: " ")
            let mm = f[1].split(separator: ":")
            allowed.append((String(f[0]), Int64(mm[0]), Int64(mm[1]), String(f[2])))
        }
        for d in devices ?? [] where d.type != "p" {
            allowed.append((d.type == "u" ? "c" : d.type, d.major, d.minor, "rwm"))
        }
        var entries: [DBusValue] = []
        for a in allowed {
            let kind = a.type == "b" ? "block" : "char"
            let path: String
            switch (a.major, a.minor) {
            case (nil, _): path = "\(kind)-*"
            case (let major?, nil):
                guard let name = deviceNames(a.type, major) else { continue }  // no such driver: nothing to allow
                path = "\(kind)-\(name)"
            case (let major?, let minor?): path = "/dev/\(kind)/\(major):\(minor)"
            }
            entries.append(.structure([.string(path), .string(a.access)]))
        }
        return [.property("DevicePolicy", .string("strict")), .property("DeviceAllow", .array(element: "(ss)", entries))]
    }

    /// /proc/devices → (type, major) → name.
    static func parseDeviceNames(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        var type = ""
        for line in text.split(separator: "\n") {
            if line.hasPrefix("Character") { type = "c"; continue }
            if line.hasPrefix("Block") { type = "b"; continue }
            let f = line.split(separator: " ")
            if f.count == 2, Int64(f[0]) != nil, out["\(type) \(f[0])"] == nil { out["\(type) \(f[0])"] = String(f[1]) }
        }
        return out
    }
}
