import ApusSpec
import Glibc

/// The systemd cgroup driver (`--systemd-cgroup`), as runc's: the
/// container's cgroup is a transient scope `<prefix>-<name>.scope` in the
/// slice of `linux.cgroupsPath` ("slice:prefix:name"), started through
/// systemd's D-Bus API with the init's pid and Delegate=yes. systemd makes
/// the scope's directory in the hierarchies it manages; the others (v1
/// cpuset, freezer, ...) are made and joined here, and every resource is
/// also written to the files (CgroupResources.apply), as runc does.
public enum SystemdCgroup {
    /// systemd's own socket: no bus daemon needed, always subscribed to signals.
    static let privateSocket = "/run/systemd/private"
    static let manager = "/org/freedesktop/systemd1"
    static let managerInterface = "org.freedesktop.systemd1.Manager"
    static let destination = "org.freedesktop.systemd1"
    /// How long a call or a job may take (runc waits 30 s for a job).
    static let timeoutMS = 30_000

    public struct Unit: Equatable {
        public var slice: String
        /// "<prefix>-<name>.scope"
        public var name: String
        /// The scope's cgroup below systemd's root ("/a.slice/a-b.slice/x.scope").
        public var cgroup: String
    }

    /// `linux.cgroupsPath` as runc reads it with --systemd-cgroup: absent →
    /// system.slice, prefix "runc", the id; otherwise exactly three
    /// ":"-separated parts, an empty slice meaning system.slice and an empty
    /// prefix a scope named after the name alone.
    public static func unit(cgroupsPath: String?, id: String) throws -> Unit {
        var slice = "system.slice", prefix = "runc", name = id
        if let path = cgroupsPath, !path.isEmpty {
            let parts = path.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3 else {
                throw RuntimeError.unsupported(path: "linux.cgroupsPath",
                    reason: "expected the format \"slice:prefix:name\" for systemd cgroups, got \"\(path)\"")
            }
            if !parts[0].isEmpty { slice = parts[0] }
            prefix = parts[1]
            name = parts[2].isEmpty ? id : parts[2]
        }
        let unit = prefix.isEmpty ? name + ".scope" : prefix + "-" + name + ".scope"
        guard isValidUnitName(unit) else {
            throw RuntimeError.unsupported(path: "linux.cgroupsPath", reason: "\"\(unit)\" is not a valid systemd unit name")
        }
        let expanded = try expandSlice(slice)
        return Unit(slice: slice, name: unit, cgroup: FS.join(expanded, unit))
    }

    /// A slice's cgroup path, as systemd nests slices: "a-b.slice" lives
    /// under "a.slice" → "/a.slice/a-b.slice"; "-.slice" is the root.
    public static func expandSlice(_ slice: String) throws -> String {
        let bad = RuntimeError.unsupported(path: "linux.cgroupsPath", reason: "invalid slice name \"\(slice)\"")
        guard slice.hasSuffix(".slice"), slice.count > 6, !slice.contains("/"), isValidUnitName(slice) else { throw bad }
        let base = slice.dropLast(6)
        if base == "-" { return "/" }
        var path = "", prefix = ""
        for component in base.split(separator: "-", omittingEmptySubsequences: false) {
            guard !component.isEmpty else { throw bad }
            path += "/" + prefix + component + ".slice"
            prefix += component + "-"
        }
        return path
    }

    static func isValidUnitName(_ s: String) -> Bool {
        s.utf8.count <= 255 && !s.hasPrefix(".") && s.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)
                || b == UInt8(ascii: ":") || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
                || b == UInt8(ascii: ".") || b == UInt8(ascii: "\\") || b == UInt8(ascii: "@")
        }
    }

    /// Fails, before anything is made, when no systemd listens.
    public static func checkRunning() throws {
        var st = stat()
        guard lstat(privateSocket, &st) == 0, st.st_mode & S_IFMT == S_IFSOCK else {
            throw RuntimeError.other("--systemd-cgroup: systemd is not running (no \(privateSocket))")
        }
    }

    /// A scope of that name that systemd already runs belongs to someone
    /// else (another container): refused before anything is made, so
    /// neither this create's cleanup nor a later delete stops it.
    static func checkUnused(_ unit: Unit) throws {
        guard let state = try property(unit: unit.name, interface: "org.freedesktop.systemd1.Unit", "ActiveState")?.string,
              state != "inactive" else { return }
        throw RuntimeError.other("--systemd-cgroup: systemd unit \(unit.name) already exists (\(state))")
    }

    /// The scope's directory in every hierarchy (as our cgroup namespace
    /// shows systemd's tree).
    public static func paths(_ unit: Unit) -> [String: String] {
        var out: [String: String] = [:]
        for h in Cgroups.hierarchies() {
            out[h.key] = FS.join(h.mountPoint, Cgroups.visible(unit.cgroup, under: h.root))
        }
        return out
    }

    static var mode: SystemdProperties.Mode {
        Cgroups.layout(Cgroups.hierarchies()) == .v2 ? .unified : .legacy
    }

    static func resourceProperties(_ r: Resources?, devices: [LinuxDevice]?) throws -> [DBusValue] {
        let names = SystemdProperties.parseDeviceNames(
            (try? ProcFS.host()).flatMap { p in defer { p.close() }; return try? p.read("devices") }
                .map { String(decoding: $0, as: UTF8.self) } ?? "")
        return try SystemdProperties.resources(r, devices: devices, mode: mode) { names["\($0) \($1)"] }
    }

    /// StartTransientUnit's properties for a new container scope.
    static func scopeProperties(_ unit: Unit, id: String, pid: Int32, resources: [DBusValue]) -> [DBusValue] {
        var p: [DBusValue] = [
            .property("Description", .string("apus container \(id)")),
            .property("Slice", .string(unit.slice)),
            .property("PIDs", .array(element: "u", [.uint32(UInt32(bitPattern: pid))])),
            .property("Delegate", .bool(true)),
            .property("DefaultDependencies", .bool(false)),
            .property("MemoryAccounting", .bool(true)),
            .property("CPUAccounting", .bool(true)),
            .property("TasksAccounting", .bool(true)),
        ]
        p.append(.property(mode == .unified ? "IOAccounting" : "BlockIOAccounting", .bool(true)))
        return p + resources
    }

    /// Creates the scope holding `pid` and waits until systemd has started it;
    /// then makes and joins the directories systemd does not, and writes the
    /// resources to the files.
    static func start(_ unit: Unit, id: String, pid: Int32, spec: Spec, paths: [String: String],
                      created: () -> Void) throws {
        let resources = try resourceProperties(spec.linux?.resources, devices: spec.linux?.devices)
        var bus = try connect()
        defer { bus.close() }
        let call = DBusMessage.call(destination: destination, path: manager, interface: managerInterface,
                                    member: "StartTransientUnit", [
                                        .string(unit.name), .string("replace"),
                                        .array(element: "(sv)", scopeProperties(unit, id: id, pid: pid, resources: resources)),
                                        .array(element: "(sa(sv))", []),
                                    ])
        try runJob(&bus, call, unit: unit.name, queued: created)
        try Cgroups.create(paths)
        try Cgroups.join(pid: pid, paths)
        try CgroupResources.apply(forFiles(spec.linux?.resources), paths: paths)
    }

    /// What is also written to the cgroup files: everything, except device
    /// rules on a unified systemd, which enforces them itself (BPF) from
    /// DevicePolicy/DeviceAllow; on v1 both write the devices files.
    static func forFiles(_ r: Resources?) -> Resources? {
        guard mode == .unified, var r else { return r }
        r.devices = nil
        return r
    }

    /// `apus update` with the systemd driver: the unit's properties
    /// (SetUnitProperties, runtime only); `update` writes the files.
    public static func setProperties(unit: String, resources: Resources, devices: [LinuxDevice]?) throws {
        let properties = try resourceProperties(resources, devices: devices)
        guard !properties.isEmpty else { return }
        var bus = try connect()
        defer { bus.close() }
        _ = try bus.call(DBusMessage.call(destination: destination, path: manager, interface: managerInterface,
                                          member: "SetUnitProperties", [
                                              .string(unit), .bool(true), .array(element: "(sv)", properties),
                                          ]), deadline: Deadline(milliseconds: timeoutMS))
    }

    /// Stops the scope (killing what is left in it) and waits until it is
    /// gone; a unit systemd no longer knows is already gone.
    public static func stop(unit: String) throws {
        var bus = try connect()
        defer { bus.close() }
        let call = DBusMessage.call(destination: destination, path: manager, interface: managerInterface,
                                    member: "StopUnit", [.string(unit), .string("replace")])
        do {
            try runJob(&bus, call, unit: unit)
        } catch DBusError.reply(let name, _) where name == "org.freedesktop.systemd1.NoSuchUnit" {
            return
        }
    }

    /// The unit's property (org.freedesktop.systemd1.Unit or .Scope), or
    /// nil when systemd has no such unit loaded.
    public static func property(unit: String, interface: String, _ name: String) throws -> DBusValue? {
        var bus = try connect()
        defer { bus.close() }
        let deadline = Deadline(milliseconds: timeoutMS)
        let reply: DBusMessage
        do {
            reply = try bus.call(DBusMessage.call(destination: destination, path: manager, interface: managerInterface,
                                                  member: "GetUnit", [.string(unit)]), deadline: deadline)
        } catch DBusError.reply(let e, _) where e == "org.freedesktop.systemd1.NoSuchUnit" {
            return nil
        }
        guard case .objectPath(let path)? = reply.body.first else { throw malformed("GetUnit", reply) }
        let value = try bus.call(DBusMessage.call(destination: destination, path: path, interface: "org.freedesktop.DBus.Properties",
                                                  member: "Get", [.string(interface), .string(name)]), deadline: deadline)
        guard case .variant(let v)? = value.body.first else { throw malformed("Get", value) }
        return v
    }

    static func connect() throws -> DBusConnection {
        try checkRunning()
        return try DBusConnection(path: privateSocket, step: "talking to systemd", timeoutMS: timeoutMS)
    }

    static func malformed(_ call: String, _ m: DBusMessage) -> RuntimeError {
        .other("talking to systemd: unexpected reply to \(call) (signature \"\(m.bodySignature)\")")
    }

    static func isJobRemoved(_ m: DBusMessage, job: String) -> Bool {
        guard m.interface == managerInterface, m.member == "JobRemoved", m.body.count == 4 else { return false }
        return m.body[1] == DBusValue.objectPath(job)
    }

    /// Sends a call that returns a job and waits for its JobRemoved signal.
    /// `queued` runs once systemd has accepted the call (the unit exists).
    static func runJob(_ bus: inout DBusConnection, _ call: DBusMessage, unit: String, queued: () -> Void = {}) throws {
        let deadline = Deadline(milliseconds: timeoutMS)
        let reply: DBusMessage
        do {
            reply = try bus.call(call, deadline: deadline)
        } catch let e as DBusError {
            if case .reply(let name, _) = e, name == "org.freedesktop.systemd1.NoSuchUnit" { throw e }
            throw RuntimeError.other("systemd: \(call.member ?? "") \(unit): \(e)")
        }
        guard case .objectPath(let job)? = reply.body.first else { throw malformed(call.member ?? "", reply) }
        queued()
        let removed = try bus.waitSignal(deadline: deadline) { isJobRemoved($0, job: job) }
        guard let removed else {
            throw RuntimeError.other("systemd: \(call.member ?? "") \(unit): timed out waiting for job \(job)")
        }
        let result = removed.body[3].string ?? ""
        guard result == "done" else {
            throw RuntimeError.other("systemd: \(call.member ?? "") \(unit): job \(result)")
        }
    }
}
