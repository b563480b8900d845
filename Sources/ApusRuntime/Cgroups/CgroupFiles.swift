/// The text formats of cgroup files (v1 and v2), parsed from their text:
/// pure functions, so unit tests feed them fixture text. Numbers read as
/// runc reads them: "max" is UInt64.max, a negative number is 0, a line
/// that does not parse is skipped.
enum CgroupFile {
    /// One blkio/io.stat entry: device, operation ("Read", "Write", ...;
    /// empty for files without one) and value.
    struct DeviceValue: Equatable {
        var major: UInt64
        var minor: UInt64
        var op: String
        var value: UInt64
    }

    /// A single-value file ("1234\n", "max\n", "-1\n").
    static func number(_ text: Substring) -> UInt64? {
        let t = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).first.map(String.init) ?? ""
        if t == "max" { return UInt64.max }
        if let v = UInt64(t) { return v }
        if let v = Int64(t), v < 0 { return 0 }
        return nil
    }

    static func number(_ text: String) -> UInt64? { number(Substring(text)) }

    /// A signed single-value file (cpuset.sched_relax_domain_level).
    static func signed(_ text: String) -> Int64? {
        Int64(text.split(whereSeparator: { $0 == " " || $0 == "\n" }).first.map(String.init) ?? "")
    }

    /// A flat keyed file: "key value" lines (memory.stat, cpu.stat,
    /// cpuacct.stat, memory.events, memory.oom_control, cgroup.events,
    /// hugetlb.<size>.events), in file order.
    static func keyed(_ text: String) -> [(key: String, value: UInt64)] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ")
            guard f.count == 2, let v = number(f[1]) else { return nil }
            return (String(f[0]), v)
        }
    }

    static func value(_ text: String, key: String) -> UInt64? {
        keyed(text).first { $0.key == key }?.value
    }

    /// Whitespace-separated numbers (cpuacct.usage_percpu).
    static func numbers(_ text: String) -> [UInt64] {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { UInt64($0) }
    }

    /// cpuacct.usage_all: a "cpu user system" header, then one line per CPU.
    static func usageAll(_ text: String) -> (user: [UInt64], system: [UInt64]) {
        var user: [UInt64] = [], system: [UInt64] = []
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: " ")
            guard f.count == 3, let u = UInt64(f[1]), let s = UInt64(f[2]) else { continue }
            user.append(u)
            system.append(s)
        }
        return (user, system)
    }

    /// A v1 blkio statistics file: "8:0 Read 4096" (or "8:0 4096" for files
    /// without operations); the "Total N" line is left out.
    static func blkio(_ text: String) -> [DeviceValue] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(whereSeparator: { $0 == " " || $0 == ":" })
            guard f.count == 3 || f.count == 4, let major = UInt64(f[0]), let minor = UInt64(f[1]),
                  let value = UInt64(f[f.count - 1]) else { return nil }
            return DeviceValue(major: major, minor: minor, op: f.count == 4 ? String(f[2]) : "", value: value)
        }
    }

    /// v2 io.stat ("8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0")
    /// in v1's terms, as runc maps it: bytes and operations, each "Read"
    /// and "Write"; the other keys have no v1 equivalent.
    static func ioStat(_ text: String) -> (bytes: [DeviceValue], ios: [DeviceValue]) {
        var bytes: [DeviceValue] = [], ios: [DeviceValue] = []
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count >= 2 else { continue }
            let dev = f[0].split(separator: ":")
            guard dev.count == 2, let major = UInt64(dev[0]), let minor = UInt64(dev[1]) else { continue }
            for item in f.dropFirst() {
                let kv = item.split(separator: "=")
                guard kv.count == 2, let v = UInt64(kv[1]) else { continue }
                let entry = { (op: String) in DeviceValue(major: major, minor: minor, op: op, value: v) }
                switch kv[0] {
                case "rbytes": bytes.append(entry("Read"))
                case "wbytes": bytes.append(entry("Write"))
                case "rios": ios.append(entry("Read"))
                case "wios": ios.append(entry("Write"))
                default: continue
                }
            }
        }
        return (bytes, ios)
    }

    /// The name runc gives a huge page size in its cgroup files and stats,
    /// from a /sys/kernel/mm/hugepages entry: "hugepages-2048kB" → "2MB",
    /// "hugepages-1048576kB" → "1GB", "hugepages-64kB" → "64KB".
    static func hugePageSize(directoryName name: String) -> String? {
        guard name.hasPrefix("hugepages-"), name.hasSuffix("kB"),
              let kb = UInt64(name.dropFirst("hugepages-".count).dropLast(2)) else { return nil }
        return HugeTLB.pageSizeName(kilobytes: kb)
    }
}
