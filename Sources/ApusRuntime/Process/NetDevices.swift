import ApusSpec
import Glibc

/// `linux.netDevices`: host interfaces moved into the container's network
/// namespace by `apus create` (on the host side, over rtnetlink), renamed as
/// the config says, with their permanent global addresses and their up
/// state carried over (the kernel drops both on a move). Every name is
/// checked before the first device moves. Nothing moves them back on
/// delete (runtime-spec 1.3, runc 1.4): a physical device returns to the
/// host when the namespace goes, a virtual one goes with it.
enum NetDevices {
    /// One device to move: host name → name in the container.
    struct Move: Equatable {
        var hostName: String
        var name: String
        var path: String { "linux.netDevices.\(hostName)" }
        var missing: RuntimeError { .unsupported(path: path, reason: "no network device \"\(hostName)\" on the host") }
    }

    /// The moves the config asks for, by host name (validation has already
    /// refused two entries with one target name).
    static func moves(_ devices: [String: NetDevice]?) -> [Move] {
        (devices ?? [:]).sorted { $0.key < $1.key }.map { host, d in
            Move(hostName: host, name: (d.name ?? "").isEmpty ? host : d.name!)
        }
    }

    /// What `create` and `apus check` refuse before anything is made: a
    /// device the host does not have.
    static func problems(_ devices: [String: NetDevice]?) -> [RuntimeError] {
        let moves = moves(devices)
        guard !moves.isEmpty else { return [] }
        do {
            var host = try Netlink.open()
            defer { host.close() }
            return try moves.compactMap { m in
                try netlink(m, "looking up \(m.hostName)", "RTM_GETLINK", { try host.link(named: m.hostName) }) == nil
                    ? m.missing : nil
            }
        } catch {
            return [error as? RuntimeError ?? .other("\(error)")]
        }
    }

    /// Moves every device into the network namespace of process `pid`.
    static func move(_ devices: [String: NetDevice]?, intoNamespaceOf pid: Int32) throws {
        let moves = moves(devices)
        guard !moves.isEmpty else { return }
        let proc = try ProcFS.host()
        defer { proc.close() }
        let target = try proc.namespace(of: pid, "net")
        defer { close(target) }
        let home = try proc.namespace(of: getpid(), "net")
        defer { close(home) }
        var host = try Netlink.open()
        defer { host.close() }
        var inner = try Netlink.open(inNamespace: target, home: home)
        defer { inner.close() }

        // Every check first: nothing moves unless all of them can.
        var links: [Netlink.Link] = []
        for m in moves {
            guard let link = try netlink(m, "looking up \(m.hostName)", "RTM_GETLINK", { try host.link(named: m.hostName) }) else {
                throw m.missing
            }
            if try netlink(m, "looking up \(m.name) in the container", "RTM_GETLINK", { try inner.link(named: m.name) }) != nil {
                throw RuntimeError.unsupported(path: m.path, reason: "the container's network namespace already has a device named \"\(m.name)\"")
            }
            links.append(link)
        }
        for (m, link) in zip(moves, links) {
            try move(m, link, host: &host, inner: &inner, namespace: target)
        }
    }

    /// One device: its addresses read, moved and renamed in one request,
    /// then the addresses and the up state restored inside.
    private static func move(_ m: Move, _ link: Netlink.Link, host: inout Netlink, inner: inout Netlink, namespace: Int32) throws {
        let addresses = try netlink(m, "reading the addresses of \(m.hostName)", "RTM_GETADDR") {
            try host.addresses(of: link.index)
        }.filter(carriedOver)
        try netlink(m, "moving \(m.hostName) into the container as \(m.name)", "RTM_NEWLINK(IFLA_NET_NS_FD, IFLA_IFNAME=\(m.name))") {
            try host.move(index: link.index, toNamespace: namespace, name: m.name)
        }
        guard let moved = try netlink(m, "finding \(m.name) in the container", "RTM_GETLINK", { try inner.link(named: m.name) }) else {
            throw RuntimeError.syscall(step: "\(m.path): finding \(m.name) in the container", call: "RTM_GETLINK", errno: ENODEV)
        }
        for a in addresses {
            try netlink(m, "restoring an address of \(m.name)", "RTM_NEWADDR") { try inner.add(a, to: moved.index) }
        }
        if link.flags & Netlink.IFF_UP != 0 {
            try netlink(m, "setting \(m.name) up", "RTM_NEWLINK(IFF_UP)") { try inner.setUp(index: moved.index) }
        }
    }

    /// Only addresses that mean the same in another namespace: global scope
    /// and configured (permanent), not link-local or autoconfigured ones.
    static func carriedOver(_ a: Netlink.Address) -> Bool {
        a.scope == 0 /* RT_SCOPE_UNIVERSE */ && a.flags & Netlink.IFA_F_PERMANENT != 0
    }

    /// Runs one netlink exchange; a kernel error names the device's JSON path.
    @discardableResult
    private static func netlink<T>(_ m: Move, _ step: String, _ call: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let f as Netlink.Failure {
            throw RuntimeError.syscall(step: "\(m.path): \(step)", call: "netlink \(call)", errno: f.errno)
        }
    }
}
