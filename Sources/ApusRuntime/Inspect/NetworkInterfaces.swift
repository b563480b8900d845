import ApusSpec

/// One interface's counters as `apus events` reports them (runc's
/// types.NetworkInterface: Go field names, no JSON tags), seen from inside
/// the container: Rx is what the container received.
struct NetworkInterface: Equatable {
    var name: String
    var rxBytes: UInt64 = 0, rxPackets: UInt64 = 0, rxErrors: UInt64 = 0, rxDropped: UInt64 = 0
    var txBytes: UInt64 = 0, txPackets: UInt64 = 0, txErrors: UInt64 = 0, txDropped: UInt64 = 0

    var json: JSONValue {
        var b = GoObject()
        b.set("Name", .string(name))
        for (key, value) in [("RxBytes", rxBytes), ("RxPackets", rxPackets), ("RxErrors", rxErrors), ("RxDropped", rxDropped),
                             ("TxBytes", txBytes), ("TxPackets", txPackets), ("TxErrors", txErrors), ("TxDropped", txDropped)] {
            b.set(key, value)
        }
        return b.json
    }
}

extension KernelView {
    /// The interfaces of the process's network namespace, loopback left
    /// out; nil when that namespace is the caller's own (a container on the
    /// host's network has no traffic of its own to report) or unreadable.
    func networkInterfaces() -> [NetworkInterface]? {
        let (own, caller) = namespaceInodes(.network)
        guard let own, own != caller, let text = try? read("net/dev") else { return nil }
        return Self.parseNetDev(text).filter { $0.name != "lo" }
    }

    /// /proc/PID/net/dev: two header lines, then "name: rx bytes packets
    /// errs drop fifo frame compressed multicast tx bytes packets errs drop ...".
    static func parseNetDev(_ text: String) -> [NetworkInterface] {
        text.split(separator: "\n").dropFirst(2).compactMap { line in
            guard let colon = line.lastIndex(of: ":") else { return nil }
            let name = line[..<colon].split(separator: " ").last.map(String.init) ?? ""
            let f = line[line.index(after: colon)...].split(separator: " ").compactMap { UInt64($0) }
            guard !name.isEmpty, f.count >= 12 else { return nil }
            return NetworkInterface(name: name, rxBytes: f[0], rxPackets: f[1], rxErrors: f[2], rxDropped: f[3],
                                    txBytes: f[8], txPackets: f[9], txErrors: f[10], txDropped: f[11])
        }
    }
}
