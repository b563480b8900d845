/// Device rules on the cgroup v1 devices controller: read what the cgroup
/// holds (devices.list), write only the rules that take it to the target
/// (DeviceState.transition), then read it back. A new cgroup starts as its
/// parent (allow-all on most hosts), so create resets it to deny-all
/// first; re-applying unchanged rules writes nothing.
enum DevicesV1 {
    static func apply(_ target: DeviceState, dir: String) throws {
        let current = try DeviceState(list: FS.readString(dir + "/devices.list"))
        for rule in current.transition(to: target) {
            try FS.write(dir + (rule.allow ? "/devices.allow" : "/devices.deny"), rule.line)
        }
        // As runc does, a last check that the kernel now holds the target
        // (in allow-all mode devices.list shows only the mode).
        let after = try DeviceState(list: FS.readString(dir + "/devices.list"))
        if after.defaultAllow != target.defaultAllow || (!target.defaultAllow && after != target) {
            throw RuntimeError.unsupported(path: "linux.resources.devices",
                                           reason: "\(dir)/devices.list does not hold the rules after writing them")
        }
    }
}
