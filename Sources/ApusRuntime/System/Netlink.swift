import CApusShim
import Glibc

/// A minimal rtnetlink client: one NETLINK_ROUTE socket, one request at a
/// time, answers collected until the kernel's ack (or NLMSG_DONE of a dump).
/// Only what `linux.netDevices` needs: look a link up by name, list its
/// addresses, move/rename it, set it up, add an address. A socket belongs to
/// the network namespace it was created in (`open(inNamespace:)`).
struct Netlink {
    // linux/netlink.h, linux/rtnetlink.h, linux/if_link.h, linux/if_addr.h
    static let NLMSG_ERROR: UInt16 = 2, NLMSG_DONE: UInt16 = 3
    static let NLM_F_REQUEST: UInt16 = 0x1, NLM_F_ACK: UInt16 = 0x4, NLM_F_DUMP: UInt16 = 0x300
    static let NLM_F_CREATE: UInt16 = 0x400, NLM_F_EXCL: UInt16 = 0x200
    static let RTM_NEWLINK: UInt16 = 16, RTM_GETLINK: UInt16 = 18, RTM_NEWADDR: UInt16 = 20, RTM_GETADDR: UInt16 = 22
    static let IFLA_IFNAME: UInt16 = 3, IFLA_NET_NS_FD: UInt16 = 28
    static let IFA_ADDRESS: UInt16 = 1, IFA_LOCAL: UInt16 = 2, IFA_BROADCAST: UInt16 = 4, IFA_FLAGS: UInt16 = 8
    static let IFA_F_PERMANENT: UInt32 = 0x80
    static let IFF_UP: UInt32 = 0x1
    static let CLONE_NEWNET: Int32 = 0x4000_0000

    /// One message of an answer: its type and the bytes after nlmsghdr.
    struct Message {
        var type: UInt16
        var body: [UInt8]
    }

    struct Link {
        var index: Int32
        var flags: UInt32
        var name: String
    }

    /// An interface address (ifaddrmsg + the attributes worth carrying over).
    struct Address {
        var family: UInt8
        var prefixLength: UInt8
        var scope: UInt8
        var flags: UInt32
        var address: [UInt8]
        var local: [UInt8]?
        var broadcast: [UInt8]?
    }

    /// The kernel answered with an error.
    struct Failure: Error {
        var errno: Int32
    }

    let fd: Int32
    private var seq: UInt32 = 0

    private init(fd: Int32) { self.fd = fd }

    /// A socket in the caller's network namespace.
    static func open() throws -> Netlink {
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0 /* NETLINK_ROUTE */)
        try check(fd, "talking to the kernel's network stack", "socket(AF_NETLINK, NETLINK_ROUTE)")
        return Netlink(fd: fd)
    }

    /// A socket in the network namespace `nsFD`: the caller enters it just
    /// long enough to create the socket (apus is single-threaded), then
    /// returns to `homeFD`.
    static func open(inNamespace nsFD: Int32, home homeFD: Int32) throws -> Netlink {
        try check(apus_setns(nsFD, Self.CLONE_NEWNET), "entering the container's network namespace", "setns(CLONE_NEWNET)")
        let opened = Result(catching: { try open() })
        if apus_setns(homeFD, Self.CLONE_NEWNET) < 0 {
            if case .success(let nl) = opened { nl.close() }
            throw RuntimeError.syscall(step: "returning to apus's network namespace", call: "setns(CLONE_NEWNET)", errno: errno)
        }
        return try opened.get()
    }

    func close() { _ = Glibc.close(fd) }

    // MARK: requests

    /// The link named `name`, or nil if there is none (ENODEV).
    mutating func link(named name: String) throws -> Link? {
        var body = Self.ifinfomsg(index: 0, flags: 0, change: 0)
        Self.attribute(&body, Self.IFLA_IFNAME, Array(name.utf8) + [0])
        do {
            let answer = try request(Self.RTM_GETLINK, flags: 0, body)
            return answer.lazy.compactMap(Self.parseLink).first
        } catch let f as Failure where f.errno == ENODEV {
            return nil
        }
    }

    /// The addresses of the link with index `index` (every family).
    mutating func addresses(of index: Int32) throws -> [Address] {
        let answer = try request(Self.RTM_GETADDR, flags: Self.NLM_F_DUMP, [0, 0, 0, 0, 0, 0, 0, 0])
        return answer.compactMap(Self.parseAddress).filter { $0.index == index }.map { $0.address }
    }

    /// Moves the link into the network namespace `nsFD`, renamed `name` there.
    mutating func move(index: Int32, toNamespace nsFD: Int32, name: String) throws {
        var body = Self.ifinfomsg(index: index, flags: 0, change: 0)
        Self.attribute(&body, Self.IFLA_NET_NS_FD, Self.bytes(UInt32(bitPattern: nsFD)))
        Self.attribute(&body, Self.IFLA_IFNAME, Array(name.utf8) + [0])
        _ = try request(Self.RTM_NEWLINK, flags: 0, body)
    }

    mutating func setUp(index: Int32) throws {
        _ = try request(Self.RTM_NEWLINK, flags: 0, Self.ifinfomsg(index: index, flags: Self.IFF_UP, change: Self.IFF_UP))
    }

    mutating func add(_ a: Address, to index: Int32) throws {
        var body = [a.family, a.prefixLength, UInt8(truncatingIfNeeded: a.flags), a.scope] + Self.bytes(UInt32(bitPattern: index))
        Self.attribute(&body, Self.IFA_ADDRESS, a.address)
        if let local = a.local { Self.attribute(&body, Self.IFA_LOCAL, local) }
        if let b = a.broadcast { Self.attribute(&body, Self.IFA_BROADCAST, b) }
        Self.attribute(&body, Self.IFA_FLAGS, Self.bytes(a.flags))
        _ = try request(Self.RTM_NEWADDR, flags: Self.NLM_F_CREATE | Self.NLM_F_EXCL, body)
    }

    /// Sends one request and collects the answer: until the ack for a plain
    /// request, until NLMSG_DONE for a dump. An error answer throws Failure.
    private mutating func request(_ type: UInt16, flags: UInt16, _ body: [UInt8]) throws -> [Message] {
        seq &+= 1
        let dump = flags & Self.NLM_F_DUMP == Self.NLM_F_DUMP
        let allFlags = Self.NLM_F_REQUEST | flags | (dump ? 0 : Self.NLM_F_ACK)
        var packet = Self.bytes(UInt32(16 + body.count)) + Self.bytes(type) + Self.bytes(allFlags) + Self.bytes(seq) + Self.bytes(UInt32(0))
        packet += body
        let sent = packet.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        try check(sent, "talking to the kernel's network stack", "send(NETLINK_ROUTE)")
        var out: [Message] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            try check(n, "talking to the kernel's network stack", "recv(NETLINK_ROUTE)")
            var at = 0
            while at + 16 <= n {
                let len = Int(Self.u32(buffer, at))
                guard len >= 16, at + len <= n else { break }
                let mtype = Self.u16(buffer, at + 4)
                if Self.u32(buffer, at + 8) == seq {
                    let body = Array(buffer[(at + 16)..<(at + len)])
                    if mtype == Self.NLMSG_DONE { return out }
                    if mtype == Self.NLMSG_ERROR {
                        let code = body.count >= 4 ? Int32(bitPattern: Self.u32(body, 0)) : -EBADMSG
                        if code != 0 { throw Failure(errno: -code) }
                        return out
                    }
                    out.append(Message(type: mtype, body: body))
                }
                at += (len + 3) & ~3
            }
        }
    }

    // MARK: encoding

    static func ifinfomsg(index: Int32, flags: UInt32, change: UInt32) -> [UInt8] {
        [UInt8(AF_UNSPEC), 0, 0, 0] + bytes(UInt32(bitPattern: index)) + bytes(flags) + bytes(change)
    }

    static func attribute(_ into: inout [UInt8], _ type: UInt16, _ data: [UInt8]) {
        into += bytes(UInt16(4 + data.count)) + bytes(type) + data
        while into.count % 4 != 0 { into.append(0) }
    }

    static func bytes<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
        withUnsafeBytes(of: v) { Array($0) } // netlink is host-endian
    }

    static func u16(_ b: [UInt8], _ at: Int) -> UInt16 { b.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt16.self) } }
    static func u32(_ b: [UInt8], _ at: Int) -> UInt32 { b.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt32.self) } }

    /// The attributes after a fixed header of `skip` bytes: (type, data).
    static func attributes(_ body: [UInt8], after skip: Int) -> [(UInt16, [UInt8])] {
        var out: [(UInt16, [UInt8])] = []
        var at = skip
        while at + 4 <= body.count {
            let len = Int(u16(body, at))
            guard len >= 4, at + len <= body.count else { break }
            out.append((u16(body, at + 2) & 0x3fff, Array(body[(at + 4)..<(at + len)])))
            at += (len + 3) & ~3
        }
        return out
    }

    // MARK: decoding

    static func parseLink(_ m: Message) -> Link? {
        guard m.type == RTM_NEWLINK, m.body.count >= 16 else { return nil }
        var name = ""
        for (type, data) in attributes(m.body, after: 16) where type == IFLA_IFNAME {
            name = String(decoding: data.prefix { $0 != 0 }, as: UTF8.self)
        }
        return Link(index: Int32(bitPattern: u32(m.body, 4)), flags: u32(m.body, 8), name: name)
    }

    static func parseAddress(_ m: Message) -> (index: Int32, address: Address)? {
        guard m.type == RTM_NEWADDR, m.body.count >= 8 else { return nil }
        var a = Address(family: m.body[0], prefixLength: m.body[1], scope: m.body[3], flags: UInt32(m.body[2]), address: [])
        for (type, data) in attributes(m.body, after: 8) {
            switch type {
            case IFA_ADDRESS: a.address = data
            case IFA_LOCAL: a.local = data
            case IFA_BROADCAST: a.broadcast = data
            case IFA_FLAGS where data.count == 4: a.flags = u32(data, 0)
            default: break
            }
        }
        if a.address.isEmpty, let local = a.local { a.address = local }
        return (Int32(bitPattern: u32(m.body, 4)), a)
    }
}
