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
        var t = ts.tv_sec
        var tm = tm()
        gmtime_r(&t, &tm)
        func pad(_ v: Int32, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        var out = "\(pad(tm.tm_year + 1900, 4))-\(pad(tm.tm_mon + 1, 2))-\(pad(tm.tm_mday, 2))T"
        out += "\(pad(tm.tm_hour, 2)):\(pad(tm.tm_min, 2)):\(pad(tm.tm_sec, 2))"
        var frac = pad(Int32(ts.tv_nsec), 9)
        while frac.last == "0" { frac.removeLast() }
        if !frac.isEmpty { out += "." + frac }
        return out + "Z"
    }
}
