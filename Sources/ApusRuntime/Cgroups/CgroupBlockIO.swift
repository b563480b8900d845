import ApusSpec

/// linux.resources.blockIO: v1 blkio, v2 io. 0 (a weight) and empty lists
/// mean "unset", as dockerd sends them.
extension CgroupPlan {
    /// runc's linear map of a blkio weight (10...1000) to io.weight (1...10000).
    static func ioWeight(blkio w: UInt16) -> UInt64 {
        1 + (UInt64(max(w, 10)) - 10) * 9999 / 990
    }

    /// The four throttle lists: JSON key, v1 file, v2 io.max key.
    static let throttles: [(key: String, v1: String, v2: String, list: (BlockIOResources) -> [ThrottleDevice]?)] = [
        ("throttleReadBpsDevice", "blkio.throttle.read_bps_device", "rbps", { $0.throttleReadBpsDevice }),
        ("throttleWriteBpsDevice", "blkio.throttle.write_bps_device", "wbps", { $0.throttleWriteBpsDevice }),
        ("throttleReadIOPSDevice", "blkio.throttle.read_iops_device", "riops", { $0.throttleReadIOPSDevice }),
        ("throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", "wiops", { $0.throttleWriteIOPSDevice }),
    ]

    mutating func blockIO(_ b: BlockIOResources) {
        let weight = b.weight.flatMap { $0 == 0 ? nil : $0 }
        let leaf = b.leafWeight.flatMap { $0 == 0 ? nil : $0 }
        let devices = b.weightDevice ?? []
        let anyThrottle = Self.throttles.contains { !($0.list(b) ?? []).isEmpty }
        guard weight != nil || leaf != nil || !devices.isEmpty || anyThrottle,
              let c = controller(v1: "blkio", v2: "io", for: "blockIO") else { return }
        if c.v2 { blockIOv2(b, weight: weight, leaf: leaf, c) } else { blockIOv1(b, weight: weight, leaf: leaf, c) }
    }

    /// v1: blkio.weight (CFQ) or blkio.bfq.weight (BFQ), whichever exists.
    private mutating func blockIOv1(_ b: BlockIOResources, weight: UInt16?, leaf: UInt16?, _ c: CgroupController) {
        let bfq = !host.has(c, "blkio.weight") && host.has(c, "blkio.bfq.weight")
        let noWeight = "the block device schedulers in use offer no blkio weight (no blkio.weight or blkio.bfq.weight: neither CFQ nor BFQ)"
        if let weight, require(c, bfq ? "blkio.bfq.weight" : "blkio.weight", for: "blockIO.weight", noWeight) {
            write("blockIO.weight", c, bfq ? "blkio.bfq.weight" : "blkio.weight", String(weight))
        }
        if let leaf, require(c, "blkio.leaf_weight", for: "blockIO.leafWeight", "this kernel has no blkio.leaf_weight (CFQ only, gone since Linux 5.0)") {
            write("blockIO.leafWeight", c, "blkio.leaf_weight", String(leaf))
        }
        for (i, d) in (b.weightDevice ?? []).enumerated() {
            let at = "blockIO.weightDevice[\(i)]"
            if let w = d.weight, w != 0, require(c, bfq ? "blkio.bfq.weight_device" : "blkio.weight_device", for: at + ".weight", noWeight) {
                write(at + ".weight", c, bfq ? "blkio.bfq.weight_device" : "blkio.weight_device", "\(d.major):\(d.minor) \(w)")
            }
            if let w = d.leafWeight, w != 0,
               require(c, "blkio.leaf_weight_device", for: at + ".leafWeight", "this kernel has no blkio.leaf_weight_device (CFQ only)") {
                write(at + ".leafWeight", c, "blkio.leaf_weight_device", "\(d.major):\(d.minor) \(w)")
            }
        }
        for t in Self.throttles {
            for (i, d) in (t.list(b) ?? []).enumerated()
            where require(c, t.v1, for: "blockIO.\(t.key)[\(i)]", "this kernel has no \(t.v1) (CONFIG_BLK_DEV_THROTTLING)") {
                // A rate of 0 removes the device's limit.
                write("blockIO.\(t.key)[\(i)]", c, t.v1, "\(d.major):\(d.minor) \(d.rate)")
            }
        }
    }

    /// v2: io.bfq.weight where BFQ is in use, else io.weight (converted);
    /// throttles in io.max ("max" for a rate of 0, which lifts the limit).
    private mutating func blockIOv2(_ b: BlockIOResources, weight: UInt16?, leaf: UInt16?, _ c: CgroupController) {
        let bfq = host.exists(c.dir + "/io.bfq.weight")
        if let weight {
            if bfq { write("blockIO.weight", c, "io.bfq.weight", String(weight)) } else if require(
                c, "io.weight", for: "blockIO.weight", "neither io.bfq.weight (BFQ) nor io.weight (blk-iocost) exists on this host") {
                write("blockIO.weight", c, "io.weight", String(Self.ioWeight(blkio: weight)))
            }
        }
        if leaf != nil { fail("blockIO.leafWeight", "cgroup v2 has no leaf weight") }
        for (i, d) in (b.weightDevice ?? []).enumerated() {
            let at = "blockIO.weightDevice[\(i)]"
            if let w = d.leafWeight, w != 0 { fail(at + ".leafWeight", "cgroup v2 has no leaf weight") }
            guard let w = d.weight, w != 0 else { continue }
            if bfq {
                write(at + ".weight", c, "io.bfq.weight", "\(d.major):\(d.minor) \(w)")
            } else if require(c, "io.weight", for: at + ".weight", "neither io.bfq.weight (BFQ) nor io.weight (blk-iocost) exists on this host") {
                write(at + ".weight", c, "io.weight", "\(d.major):\(d.minor) \(Self.ioWeight(blkio: w))")
            }
        }
        for t in Self.throttles {
            for (i, d) in (t.list(b) ?? []).enumerated()
            where require(c, "io.max", for: "blockIO.\(t.key)[\(i)]", "this kernel has no io.max (CONFIG_BLK_DEV_THROTTLING)") {
                write("blockIO.\(t.key)[\(i)]", c, "io.max", "\(d.major):\(d.minor) \(t.v2)=\(d.rate == 0 ? "max" : String(d.rate))")
            }
        }
    }
}
