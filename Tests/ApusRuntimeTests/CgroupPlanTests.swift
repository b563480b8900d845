import ApusCLI
@testable import ApusRuntime
import ApusSpec
import XCTest

/// linux.resources → cgroup file writes on fake v1 and v2 hosts (no root):
/// runc's conversions, its "unset" values, and an error naming the JSON
/// path for whatever the host cannot apply.
final class CgroupPlanTests: XCTestCase {
    /// A host whose v1 hierarchies are `v1` (controller → dir) and whose
    /// cgroup2 directory /u offers `v2`; `files` exist (with their text).
    func host(v1: [String: String] = [:], v2: [String] = [], files: [String: String] = [:]) -> CgroupHost {
        CgroupHost(v1: { v1[$0] }, v2: { $0.isEmpty || v2.contains($0) ? (v2.isEmpty && !$0.isEmpty ? nil : "/u") : nil },
                   exists: { files[$0] != nil }, read: { files[$0] }, hugePageSizes: { ["2MB", "1GB"] })
    }

    func writes(_ r: Resources, _ h: CgroupHost) -> [String] {
        let plan = CgroupPlan.make(r, host: h)
        XCTAssertEqual(plan.errors.map(\.description), [])
        return plan.writes.map { "\($0.file)=\($0.value)" }
    }

    func errors(_ r: Resources, _ h: CgroupHost) -> [String] {
        CgroupPlan.make(r, host: h).errors.map(\.description)
    }

    func decode(_ json: String) throws -> Resources {
        try Resources(json: JSONParser.parse(Array(json.utf8)), path: .root)
    }

    func testConversions() {
        XCTAssertEqual(CgroupPlan.ioWeight(blkio: 10), 1)
        XCTAssertEqual(CgroupPlan.ioWeight(blkio: 500), 4950)
        XCTAssertEqual(CgroupPlan.ioWeight(blkio: 1000), 10000)
        XCTAssertEqual(CgroupPlan.cpuWeight(shares: 2), 1)
        XCTAssertEqual(CgroupPlan.cpuWeight(shares: 1024), 39)
        XCTAssertEqual(CgroupPlan.cpuWeight(shares: 262_144), 10000)
        XCTAssertEqual(CgroupPlan.cpuMax(quota: 50000, period: 100_000), "50000 100000")
        XCTAssertEqual(CgroupPlan.cpuMax(quota: -1, period: 0), "max")
        XCTAssertEqual(CgroupPlan.cpuMax(quota: 20000, period: 0), "20000", "the kernel keeps its period")
        XCTAssertEqual(CgroupPlan.pidsMax(0), nil)
        XCTAssertEqual(CgroupPlan.pidsMax(-1), "max")
        XCTAssertEqual(CgroupPlan.pidsMax(42), "42")
        XCTAssertEqual(try CgroupPlan.swapMax(swap: 0, limit: -1).get(), "max")
        XCTAssertEqual(try CgroupPlan.swapMax(swap: 0, limit: 100).get(), nil)
        XCTAssertEqual(try CgroupPlan.swapMax(swap: -1, limit: 100).get(), "max")
        XCTAssertEqual(try CgroupPlan.swapMax(swap: 300, limit: 100).get(), "200")
        XCTAssertEqual(try CgroupPlan.swapMax(swap: 100, limit: 100).get(), "0", "memory == swap disables swap")
        XCTAssertThrowsError(try CgroupPlan.swapMax(swap: 50, limit: 100).get())
        XCTAssertThrowsError(try CgroupPlan.swapMax(swap: 50, limit: 0).get())
        XCTAssertEqual(HugeTLB.pageSizeName(kilobytes: 2048), "2MB")
        XCTAssertEqual(HugeTLB.pageSizeName(kilobytes: 1_048_576), "1GB")
        XCTAssertEqual(HugeTLB.pageSizeName(kilobytes: 64), "64KB")
        XCTAssertEqual(CgroupPlan.rdmaLine("mlx4_0", RdmaResource(hcaHandles: 2, hcaObjects: 2000)), "mlx4_0 hca_handle=2 hca_object=2000")
        XCTAssertEqual(CgroupPlan.rdmaLine("mlx4_0", RdmaResource(hcaObjects: 7)), "mlx4_0 hca_object=7")
    }

    func testBlockIOAsDockerdSendsItWritesNothing() throws {
        let r = try decode(#"{"blockIO": {"weight": 0, "weightDevice": [], "throttleReadBpsDevice": [], "throttleWriteBpsDevice": [], "throttleReadIOPSDevice": [], "throttleWriteIOPSDevice": []}}"#)
        XCTAssertEqual(writes(r, host()), [], "no controller needed for unset values")
    }

    func testBlockIOV1AndV2() throws {
        let r = try decode(#"{"blockIO": {"weight": 500, "weightDevice": [{"major": 8, "minor": 0, "weight": 300}], "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}], "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 0}]}}"#)
        let cfq = host(v1: ["blkio": "/b"], files: ["/b/blkio.weight": "", "/b/blkio.weight_device": "",
                                                   "/b/blkio.throttle.read_bps_device": "", "/b/blkio.throttle.write_iops_device": ""])
        XCTAssertEqual(writes(r, cfq), ["/b/blkio.weight=500", "/b/blkio.weight_device=8:0 300",
                                        "/b/blkio.throttle.read_bps_device=8:0 1048576", "/b/blkio.throttle.write_iops_device=8:0 0"])
        let bfq = host(v1: ["blkio": "/b"], files: ["/b/blkio.bfq.weight": "", "/b/blkio.bfq.weight_device": "",
                                                   "/b/blkio.throttle.read_bps_device": "", "/b/blkio.throttle.write_iops_device": ""])
        XCTAssertEqual(writes(r, bfq).prefix(2), ["/b/blkio.bfq.weight=500", "/b/blkio.bfq.weight_device=8:0 300"])
        let iocost = host(v2: ["io"], files: ["/u/io.weight": "default 100", "/u/io.max": ""])
        XCTAssertEqual(writes(r, iocost), ["/u/io.weight=4950", "/u/io.weight=8:0 2930", "/u/io.max=8:0 rbps=1048576", "/u/io.max=8:0 wiops=max"])
        let v2bfq = host(v2: ["io"], files: ["/u/io.bfq.weight": "default 100", "/u/io.max": ""])
        XCTAssertEqual(writes(r, v2bfq).prefix(2), ["/u/io.bfq.weight=500", "/u/io.bfq.weight=8:0 300"])
        // No scheduler with weights, no leaf weight on v2: the JSON path is named.
        XCTAssertEqual(errors(try decode(#"{"blockIO": {"weight": 500}}"#), host(v1: ["blkio": "/b"])),
                       ["config.json: linux.resources.blockIO.weight: the block device schedulers in use offer no blkio weight (no blkio.weight or blkio.bfq.weight: neither CFQ nor BFQ)"])
        XCTAssertEqual(errors(try decode(#"{"blockIO": {"leafWeight": 500}}"#), iocost),
                       ["config.json: linux.resources.blockIO.leafWeight: cgroup v2 has no leaf weight"])
        XCTAssertEqual(errors(try decode(#"{"blockIO": {"weight": 500}}"#), host()),
                       ["config.json: linux.resources.blockIO: no blkio (v1) or io (v2) cgroup controller on this host"])
    }

    func testMemoryV1() throws {
        let files = ["/m/memory.limit_in_bytes": "9223372036854771712", "/m/memory.memsw.limit_in_bytes": "", "/m/memory.swappiness": "",
                     "/m/memory.use_hierarchy": "1"]
        let h = host(v1: ["memory": "/m"], files: files)
        let r = try decode(#"{"memory": {"limit": 1000, "reservation": 500, "swap": 2000, "swappiness": 10, "disableOOMKiller": true, "useHierarchy": true, "kernel": 5, "kernelTCP": 0}}"#)
        let plan = CgroupPlan.make(r, host: h)
        XCTAssertEqual(plan.writes.map { "\($0.file)=\($0.value)" }, [
            "/m/memory.limit_in_bytes=1000", "/m/memory.memsw.limit_in_bytes=2000", "/m/memory.soft_limit_in_bytes=500",
            "/m/memory.oom_control=1", "/m/memory.swappiness=10", "/m/memory.use_hierarchy=1",
        ], "lowering from unlimited: the limit first")
        XCTAssertEqual(plan.warnings, ["Kernel memory settings are ignored and will be removed"])
        var raising = files
        raising["/m/memory.limit_in_bytes"] = "500"
        XCTAssertEqual(writes(try decode(#"{"memory": {"limit": 1000, "swap": 2000}}"#), host(v1: ["memory": "/m"], files: raising)),
                       ["/m/memory.memsw.limit_in_bytes=2000", "/m/memory.limit_in_bytes=1000"], "memsw first when it grows past the limit")
        XCTAssertEqual(writes(try decode(#"{"memory": {"limit": -1}}"#), h),
                       ["/m/memory.memsw.limit_in_bytes=-1", "/m/memory.limit_in_bytes=-1"], "unlimited memory lifts memsw too")
        XCTAssertEqual(errors(try decode(#"{"memory": {"swap": 2000}}"#), host(v1: ["memory": "/m"])),
                       ["config.json: linux.resources.memory.swap: this kernel has no swap accounting (memory.memsw.* is missing)"])
        XCTAssertEqual(writes(try decode(#"{"memory": {"limit": 0, "reservation": 0, "swap": 0}}"#), host()), [], "0 is unset")
        XCTAssertEqual(writes(try decode(#"{"memory": {"swappiness": 18446744073709551615, "disableOOMKiller": false}}"#), host()), [],
                       "uint64(-1) swappiness is unset, as in runc")
    }

    func testKernelTCPIsWrittenOnV1KernelWarnedAbout() throws {
        let tcp = "/m/memory.kmem.tcp.limit_in_bytes"
        let h = host(v1: ["memory": "/m"], files: [tcp: "9223372036854771712", "/m/memory.kmem.limit_in_bytes": ""])
        var plan = CgroupPlan.make(try decode(#"{"memory": {"kernelTCP": 50593792}}"#), host: h)
        XCTAssertEqual(plan.writes.map { "\($0.file)=\($0.value)" }, ["\(tcp)=50593792"])
        XCTAssertEqual(plan.warnings, [])
        XCTAssertEqual(writes(try decode(#"{"memory": {"kernelTCP": -1}}"#), h), ["\(tcp)=-1"])
        // the kmem limit itself: Linux 6.1+ takes the write and ignores it (runc's warning)
        plan = CgroupPlan.make(try decode(#"{"memory": {"kernel": 5, "kernelTCP": 7}}"#), host: h)
        XCTAssertEqual(plan.writes.map(\.file), [tcp])
        XCTAssertEqual(plan.warnings, ["Kernel memory settings are ignored and will be removed"])
        // no file (v2, or no memory controller at all): warned, never an error
        for other in [host(v2: ["memory"]), host()] {
            plan = CgroupPlan.make(try decode(#"{"memory": {"kernelTCP": 7}}"#), host: other)
            XCTAssertEqual(plan.writes.count + plan.errors.count, 0)
            XCTAssertEqual(plan.warnings, ["Kernel memory settings are ignored and will be removed"])
        }
    }

    func testMemoryV2() throws {
        let h = host(v2: ["memory"], files: ["/u/memory.swap.max": "max", "/u/memory.current": "4096"])
        XCTAssertEqual(writes(try decode(#"{"memory": {"limit": 1000, "swap": 3000, "reservation": 10}}"#), h),
                       ["/u/memory.swap.max=2000", "/u/memory.max=1000", "/u/memory.low=10"])
        XCTAssertEqual(writes(try decode(#"{"memory": {"limit": -1}}"#), h), ["/u/memory.swap.max=max", "/u/memory.max=max"])
        XCTAssertEqual(errors(try decode(#"{"memory": {"swap": 3000}}"#), h),
                       ["config.json: linux.resources.memory.swap: unable to set swap limit without memory limit"])
        XCTAssertEqual(errors(try decode(#"{"memory": {"limit": 1000, "checkBeforeUpdate": true, "swappiness": 5, "disableOOMKiller": true}}"#), h), [
            "config.json: linux.resources.memory.swappiness: cgroup v2 has no per-cgroup swappiness",
            "config.json: linux.resources.memory.disableOOMKiller: cgroup v2 cannot disable the OOM killer for a cgroup",
            "config.json: linux.resources.memory.limit: rejecting memory limit 1000: less than current usage 4096 (checkBeforeUpdate)",
        ])
    }

    func testCPUV1AndV2() throws {
        let r = try decode(#"{"cpu": {"shares": 1024, "quota": 50000, "period": 100000, "burst": 1000, "idle": 1, "cpus": "0-1", "mems": ""}}"#)
        let v1 = host(v1: ["cpu": "/c", "cpuset": "/s"], files: ["/c/cpu.cfs_burst_us": "", "/c/cpu.idle": ""])
        XCTAssertEqual(writes(r, v1), ["/s/cpuset.cpus=0-1", "/c/cpu.shares=1024", "/c/cpu.cfs_period_us=100000",
                                       "/c/cpu.cfs_quota_us=50000", "/c/cpu.cfs_burst_us=1000", "/c/cpu.idle=1"])
        let v2 = host(v2: ["cpu", "cpuset"], files: ["/u/cpu.max.burst": ""])
        XCTAssertEqual(writes(r, v2), ["/u/cpuset.cpus=0-1", "/u/cpu.weight=39", "/u/cpu.idle=1", "/u/cpu.max.burst=1000", "/u/cpu.max=50000 100000"])
        XCTAssertEqual(errors(try decode(#"{"cpu": {"realtimeRuntime": 1000}}"#), v2),
                       ["config.json: linux.resources.cpu.realtimeRuntime: real-time group scheduling limits need cgroup v1"])
        XCTAssertEqual(errors(try decode(#"{"cpu": {"shares": 1}}"#), v1), ["config.json: linux.resources.cpu.shares: the minimum allowed cpu-shares is 2"])
        XCTAssertEqual(writes(try decode(#"{"cpu": {"shares": 0, "quota": 0, "period": 0, "cpus": "", "mems": ""}}"#), host()), [])
    }

    func testPidsHugetlbNetworkRdma() throws {
        let v1 = host(v1: ["pids": "/p", "hugetlb": "/h", "net_cls": "/n", "net_prio": "/n", "rdma": "/r"],
                      files: ["/h/hugetlb.2MB.rsvd.limit_in_bytes": ""])
        let r = try decode(#"{"pids": {"limit": -1}, "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}, {"pageSize": "1GB", "limit": 0}], "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 5}]}, "rdma": {"mlx5_1": {"hcaHandles": 3}}}"#)
        XCTAssertEqual(writes(r, v1), [
            "/p/pids.max=max", "/h/hugetlb.2MB.limit_in_bytes=4194304", "/h/hugetlb.2MB.rsvd.limit_in_bytes=4194304",
            "/h/hugetlb.1GB.limit_in_bytes=0", "/n/net_cls.classid=1048577", "/n/net_prio.ifpriomap=eth0 5", "/r/rdma.max=mlx5_1 hca_handle=3",
        ])
        let v2 = host(v2: ["hugetlb", "pids", "rdma"], files: ["/u/hugetlb.2MB.rsvd.max": ""])
        XCTAssertEqual(writes(try decode(#"{"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}]}"#), v2),
                       ["/u/hugetlb.2MB.max=4194304", "/u/hugetlb.2MB.rsvd.max=4194304"])
        XCTAssertEqual(errors(try decode(#"{"network": {"classID": 1}, "hugepageLimits": [{"pageSize": "64KB", "limit": 1}]}"#), v2), [
            "config.json: linux.resources.hugepageLimits[0].pageSize: this host has no 64KB huge pages (it has: 2MB, 1GB)",
            "config.json: linux.resources.network.classID: no net_cls cgroup controller is mounted on this host (cgroup v1 only)",
        ])
    }

    func testUnified() throws {
        let v2 = host(v2: ["hugetlb"], files: ["/u/hugetlb.2MB.max": "", "/u/cgroup.max.depth": ""])
        XCTAssertEqual(writes(try decode(#"{"unified": {"hugetlb.2MB.max": "4096", "cgroup.max.depth": "3"}}"#), v2),
                       ["/u/cgroup.max.depth=3", "/u/hugetlb.2MB.max=4096"])
        XCTAssertEqual(errors(try decode(#"{"unified": {"memory.high": "1", "hugetlb.3MB.max": "1"}}"#), v2), [
            "config.json: linux.resources.unified.hugetlb.3MB.max: no such cgroup v2 file",
            "config.json: linux.resources.unified.memory.high: invalid configuration: cannot use unified on cgroup v1: the memory controller is not available in this container's cgroup v2 tree",
        ])
        let v1Only = CgroupHost(v1: { _ in "/x" }, v2: { _ in nil }, exists: { _ in true }, read: { _ in nil }, hugePageSizes: { [] })
        XCTAssertEqual(errors(try decode(#"{"unified": {"memory.high": "1"}}"#), v1Only),
                       ["config.json: linux.resources.unified: invalid configuration: cannot use unified on cgroup v1"])
    }

    func testUpdateChangesOnlyWhatIsGiven() throws {
        let stored = try decode(#"{"memory": {"limit": 1000, "swap": 3000}, "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"}, "pids": {"limit": 42}, "hugepageLimits": [{"pageSize": "2MB", "limit": 1}]}"#)
        // runc update's defaults: everything 0/"" unless given
        let flags = try decode(#"{"memory": {"limit": 2000, "reservation": 0, "swap": 0, "kernel": 0, "kernelTCP": 0}, "cpu": {"shares": 0, "quota": 20000, "period": 0, "realtimeRuntime": 0, "realtimePeriod": 0, "cpus": "", "mems": ""}, "blockIO": {"weight": 0}, "pids": {"limit": 0}}"#)
        let given = ResourceUpdate.given(flags)
        XCTAssertEqual(given.memory, MemoryResources(limit: 2000))
        XCTAssertEqual(given.cpu, CPUResources(quota: 20000))
        XCTAssertNil(given.pids)
        XCTAssertNil(given.blockIO)
        let merged = ResourceUpdate.merge(stored, given)
        XCTAssertEqual(merged.memory, MemoryResources(limit: 2000, swap: 3000))
        XCTAssertEqual(merged.cpu, CPUResources(shares: 512, quota: 20000, period: 100_000, cpus: "0"))
        XCTAssertEqual(merged.pids, PidsResources(limit: 42))
        let apply = ResourceUpdate.toApply(given, merged: merged)
        XCTAssertEqual(apply.memory, MemoryResources(limit: 2000, swap: 3000), "v2 needs both to convert swap")
        XCTAssertEqual(apply.cpu, CPUResources(quota: 20000, period: 100_000), "v2 writes quota and period as one")
        let huge = ResourceUpdate.merge(stored, ResourceUpdate.given(try decode(#"{"hugepageLimits": [{"pageSize": "2MB", "limit": 8}, {"pageSize": "1GB", "limit": 0}]}"#)))
        XCTAssertEqual(huge.hugepageLimits, [HugepageLimit(pageSize: "2MB", limit: 8), HugepageLimit(pageSize: "1GB", limit: 0)])
    }

    func testByteSizeAsGoUnits() {
        XCTAssertEqual(ByteSize.parse("1024"), 1024)
        XCTAssertEqual(ByteSize.parse("64m"), 64 << 20)
        XCTAssertEqual(ByteSize.parse("1g"), 1 << 30)
        XCTAssertEqual(ByteSize.parse("1.5GiB"), 3 << 29)
        XCTAssertEqual(ByteSize.parse("100 kb"), 102_400)
        XCTAssertEqual(ByteSize.parse("2MB"), 2 << 20)
        XCTAssertNil(ByteSize.parse("abc"))
        XCTAssertNil(ByteSize.parse("-5"))
        XCTAssertNil(ByteSize.parse("1x"))
        XCTAssertNil(ByteSize.parse(""))
    }

    func testLimitsReadBack() {
        let files = [
            "/m/memory.limit_in_bytes": "1000", "/m/memory.soft_limit_in_bytes": "9223372036854771712", "/m/memory.memsw.limit_in_bytes": "2000",
            "/m/memory.swappiness": "10", "/m/memory.oom_control": "oom_kill_disable 1\nunder_oom 0",
            "/c/cpu.cfs_quota_us": "-1", "/c/cpu.cfs_period_us": "100000", "/c/cpu.shares": "1024", "/c/cpu.rt_runtime_us": "0",
            "/b/blkio.throttle.read_bps_device": "8:0 100", "/b/blkio.throttle.write_bps_device": "",
            "/u/hugetlb.2MB.max": "4194304", "/u/hugetlb.1GB.max": "max",
        ]
        let l = CgroupLimits.read(["memory": "/m", "cpu": "/c", "blkio": "/b", "unified": "/u"], hugePageSizes: ["2MB", "1GB"]) { files[$0] }
        XCTAssertEqual(l.memorySwap, 2000)
        XCTAssertEqual(l.memoryReservation, -1)
        XCTAssertEqual(l.disableOOMKiller, true)
        XCTAssertEqual(l.cpuRealtimeRuntime, 0)
        XCTAssertEqual(l.blockIOThrottle["throttleReadBpsDevice"], ["8:0 100"])
        XCTAssertEqual(l.blockIOThrottle["throttleWriteBpsDevice"], [])
        XCTAssertEqual(l.hugepageLimits, ["2MB": 4_194_304, "1GB": -1])
        let v2 = ["/u/memory.max": "1000", "/u/memory.swap.max": "2000", "/u/memory.low": "0", "/u/io.weight": "default 100\n8:0 50",
                  "/u/io.max": "8:0 rbps=100 wbps=max riops=max wiops=7"]
        let l2 = CgroupLimits.read(["unified": "/u"], hugePageSizes: []) { v2[$0] }
        XCTAssertEqual(l2.memorySwap, 3000, "memory+swap, as the spec's swap")
        XCTAssertEqual(l2.blockIOWeight, 100)
        XCTAssertEqual(l2.blockIOThrottle["throttleReadBpsDevice"], ["8:0 100"])
        XCTAssertEqual(l2.blockIOThrottle["throttleWriteIOPSDevice"], ["8:0 7"])
    }
}
