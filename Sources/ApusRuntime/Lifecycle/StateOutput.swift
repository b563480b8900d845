import ApusSpec
import Glibc

/// The two state documents: the OCI state hooks get on stdin, and the
/// richer one `apus state` prints (runc's layout, key order and all).
public enum StateOutput {
    public static let specVersion = "1.2.1"

    /// `pid` is shown even when stopped (restore's hooks, as runc).
    public static func oci(_ r: ContainerRecord, status: ContainerStatus, pid: Int32? = nil) -> JSONValue {
        var b = ObjectBuilder()
        b.set("ociVersion", specVersion)
        b.set("id", r.id)
        b.set("status", status.rawValue)
        b.set("pid", pid ?? (status == .stopped ? nil : r.pid))
        b.set("bundle", r.bundle)
        b.set("annotations", r.annotations ?? [:])
        return b.json
    }

    /// The same state, typed (for the seccomp agent's message).
    static func ociState(_ r: ContainerRecord, status: ContainerStatus) -> ContainerState {
        ContainerState(ociVersion: specVersion, id: r.id, status: status.rawValue, pid: Int(r.pid),
                       bundle: r.bundle, annotations: r.annotations ?? [:])
    }

    public static func runcState(_ r: ContainerRecord, status: ContainerStatus) -> JSONValue {
        var b = ObjectBuilder()
        b.set("ociVersion", specVersion)
        b.set("id", r.id)
        b.set("pid", status == .stopped ? 0 : r.pid)
        b.set("status", status.rawValue)
        b.set("bundle", r.bundle)
        b.set("rootfs", r.rootfs)
        b.set("created", r.created)
        b.set("annotations", (r.annotations?.isEmpty ?? true) ? nil : r.annotations)
        b.set("owner", r.owner)
        return b.json
    }
}

/// Go's time.Time JSON form (RFC 3339, nanoseconds with trailing zeros trimmed, UTC).
public enum Timestamp {
    public static func now() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return format(seconds: Int64(ts.tv_sec), nanoseconds: Int(ts.tv_nsec))
    }

    /// RFC 3339 in UTC with trailing zeros of the fraction dropped (Go's
    /// RFC3339Nano), computed from the epoch seconds: gmtime_r would load
    /// /etc/localtime on its first call (seven syscalls per create).
    static func format(seconds: Int64, nanoseconds: Int) -> String {
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let secs = Int(seconds - days * 86400)
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = Int(doy - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        let year = Int(yoe + era * 400 + (month <= 2 ? 1 : 0))
        var out: [UInt8] = []
        out.reserveCapacity(32)
        func digits(_ v: Int, _ width: Int) {
            var d = [UInt8](repeating: UInt8(ascii: "0"), count: width)
            var n = v
            for i in stride(from: width - 1, through: 0, by: -1) {
                d[i] = UInt8(ascii: "0") + UInt8(n % 10)
                n /= 10
            }
            out += d
        }
        digits(year, 4); out.append(UInt8(ascii: "-")); digits(month, 2); out.append(UInt8(ascii: "-")); digits(day, 2)
        out.append(UInt8(ascii: "T"))
        digits(secs / 3600, 2); out.append(UInt8(ascii: ":")); digits(secs / 60 % 60, 2); out.append(UInt8(ascii: ":")); digits(secs % 60, 2)
        if nanoseconds > 0 {
            out.append(UInt8(ascii: "."))
            digits(nanoseconds, 9)
            while out.last == UInt8(ascii: "0") { out.removeLast() }
        }
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }
}
