@testable import ApusRuntime
import ApusSpec
import Glibc
import XCTest

/// The rtnetlink encoding and decoding linux.netDevices relies on, and
/// which devices and addresses move (no root needed).
final class NetlinkTests: XCTestCase {
    func testAttributesArePaddedToFourBytes() {
        var body: [UInt8] = []
        Netlink.attribute(&body, Netlink.IFLA_IFNAME, Array("eth0".utf8) + [0])
        XCTAssertEqual(body.count, 12, "4 header + 5 data, padded to 12")
        XCTAssertEqual(Netlink.u16(body, 0), 9)
        XCTAssertEqual(Netlink.u16(body, 2), Netlink.IFLA_IFNAME)
        XCTAssertEqual(Netlink.attributes(body, after: 0).first?.1, Array("eth0".utf8) + [0])
    }

    func testLinkAndAddressAnswersDecode() {
        var link = Netlink.ifinfomsg(index: 7, flags: Netlink.IFF_UP, change: 0)
        Netlink.attribute(&link, Netlink.IFLA_IFNAME, Array("veth1".utf8) + [0])
        let l = Netlink.parseLink(.init(type: Netlink.RTM_NEWLINK, body: link))
        XCTAssertEqual(l?.index, 7)
        XCTAssertEqual(l?.name, "veth1")
        XCTAssertEqual(l?.flags, Netlink.IFF_UP)

        var addr: [UInt8] = [UInt8(AF_INET), 24, 0x80, 0] + Netlink.bytes(UInt32(7))
        Netlink.attribute(&addr, Netlink.IFA_ADDRESS, [10, 0, 0, 1])
        Netlink.attribute(&addr, Netlink.IFA_LOCAL, [10, 0, 0, 1])
        Netlink.attribute(&addr, Netlink.IFA_BROADCAST, [10, 0, 0, 255])
        Netlink.attribute(&addr, Netlink.IFA_FLAGS, Netlink.bytes(Netlink.IFA_F_PERMANENT))
        let a = Netlink.parseAddress(.init(type: Netlink.RTM_NEWADDR, body: addr))
        XCTAssertEqual(a?.index, 7)
        XCTAssertEqual(a?.address.prefixLength, 24)
        XCTAssertEqual(a?.address.address, [10, 0, 0, 1])
        XCTAssertEqual(a?.address.broadcast, [10, 0, 0, 255])
        XCTAssertTrue(a.map { NetDevices.carriedOver($0.address) } ?? false)
        XCTAssertNil(Netlink.parseLink(.init(type: Netlink.RTM_NEWADDR, body: addr)), "not a link answer")
    }

    func testOnlyPermanentGlobalAddressesMove() {
        let base = Netlink.Address(family: UInt8(AF_INET6), prefixLength: 64, scope: 0, flags: Netlink.IFA_F_PERMANENT, address: [])
        XCTAssertTrue(NetDevices.carriedOver(base))
        var link = base
        link.scope = 253 // RT_SCOPE_LINK: fe80::/64
        XCTAssertFalse(NetDevices.carriedOver(link))
        var dynamic = base
        dynamic.flags = 0 // autoconfigured (SLAAC, DHCP)
        XCTAssertFalse(NetDevices.carriedOver(dynamic))
    }

    func testMovesKeepTheHostNameUnlessRenamed() {
        let moves = NetDevices.moves(["veth1": NetDevice(name: "eth0"), "veth0": NetDevice(), "veth2": NetDevice(name: "")])
        XCTAssertEqual(moves.map(\.hostName), ["veth0", "veth1", "veth2"], "in name order")
        XCTAssertEqual(moves.map(\.name), ["veth0", "eth0", "veth2"])
        XCTAssertEqual(moves[1].path, "linux.netDevices.veth1")
    }
}
