@testable import ApusRuntime
import ApusSpec
import XCTest

/// The cgroup file parsers and `apus events`' stats object, fed fixture text
/// (v1 files as this project's hybrid host shows them, v2 from the kernel's
/// cgroup-v2 documentation).
final class CgroupStatsTests: XCTestCase {
    // MARK: file formats

    func testSingleValues() {
        XCTAssertEqual(CgroupFile.number("1234\n"), 1234)
        XCTAssertEqual(CgroupFile.number("max\n"), UInt64.max)
        XCTAssertEqual(CgroupFile.number("-1\n"), 0, "runc reads a negative number as 0")
        XCTAssertEqual(CgroupFile.number("9223372036854771712\n"), 9_223_372_036_854_771_712)
        XCTAssertNil(CgroupFile.number("abc\n"))
        XCTAssertNil(CgroupFile.number(""))
        XCTAssertEqual(CgroupFile.signed("-1\n"), -1)
    }

    func testFlatKeyedFiles() {
        let oomControl = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"
        XCTAssertEqual(CgroupFile.value(oomControl, key: "oom_kill"), 3)
        XCTAssertNil(CgroupFile.value(oomControl, key: "nope"))
        let events = "low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 0\n"
        XCTAssertEqual(CgroupFile.keyed(events).map { $0.key }, ["low", "high", "max", "oom", "oom_kill", "oom_group_kill"])
        XCTAssertEqual(CgroupFile.value(events, key: "max"), 12)
        // A line that does not parse is skipped, the rest kept.
        XCTAssertEqual(CgroupFile.keyed("a 1\nbroken\nb x\nc 3 4\nd 4\n").map { $0.key }, ["a", "d"])
    }

    func testCpuacctFiles() {
        XCTAssertEqual(CgroupFile.numbers("10822749 1936837 \n"), [10_822_749, 1_936_837])
        let all = "cpu user system\n0 4469926286428 1950266522836\n1 5035247276105 2019905429003\n"
        let modes = CgroupFile.usageAll(all)
        XCTAssertEqual(modes.user, [4_469_926_286_428, 5_035_247_276_105])
        XCTAssertEqual(modes.system, [1_950_266_522_836, 2_019_905_429_003])
    }

    func testBlkioV1() {
        let text = "253:0 Read 4096\n253:0 Write 8192\n253:0 Sync 0\n253:0 Total 12288\n8:16 Read 1\nTotal 12289\n"
        let e = CgroupFile.blkio(text)
        XCTAssertEqual(e.count, 5, "the per-device lines, the last Total left out")
        XCTAssertEqual(e[0], CgroupFile.DeviceValue(major: 253, minor: 0, op: "Read", value: 4096))
        XCTAssertEqual(e[4], CgroupFile.DeviceValue(major: 8, minor: 16, op: "Read", value: 1))
        // Files without an operation column (blkio.sectors_recursive, blkio.time_recursive).
        XCTAssertEqual(CgroupFile.blkio("8:0 2048\n"), [CgroupFile.DeviceValue(major: 8, minor: 0, op: "", value: 2048)])
        XCTAssertEqual(CgroupFile.blkio("Total 0\n"), [])
    }

    func testIoStatV2() {
        let text = "8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n253:0 rbytes=5 wbytes=6 rios=7 wios=8\n"
        let io = CgroupFile.ioStat(text)
        XCTAssertEqual(io.bytes, [.init(major: 8, minor: 16, op: "Read", value: 1_459_200), .init(major: 8, minor: 16, op: "Write", value: 314_773_504),
                                  .init(major: 253, minor: 0, op: "Read", value: 5), .init(major: 253, minor: 0, op: "Write", value: 6)])
        XCTAssertEqual(io.ios.map(\.value), [192, 353, 7, 8])
    }

    func testHugePageSizeNames() {
        XCTAssertEqual(CgroupFile.hugePageSize(directoryName: "hugepages-2048kB"), "2MB")
        XCTAssertEqual(CgroupFile.hugePageSize(directoryName: "hugepages-1048576kB"), "1GB")
        XCTAssertEqual(CgroupFile.hugePageSize(directoryName: "hugepages-64kB"), "64KB")
        XCTAssertEqual(CgroupFile.hugePageSize(directoryName: "hugepages-1536kB"), "1.5MB")
        XCTAssertNil(CgroupFile.hugePageSize(directoryName: "hugepages-2048"))
        XCTAssertNil(CgroupFile.hugePageSize(directoryName: "other"))
    }

    func testNetDev() {
        let text = """
        Inter-|   Receive                                                |  Transmit
         face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
            lo:    6386      58    0    0    0     0          0         0     6386      58    0    0    0     0       0          0
          eth0: 156983790    4407    1    2    0     0          0         0   261111    3440    3    4    0     0       0          0
        """
        let ifs = KernelView.parseNetDev(text)
        XCTAssertEqual(ifs.map(\.name), ["lo", "eth0"])
        XCTAssertEqual(ifs[1], NetworkInterface(name: "eth0", rxBytes: 156_983_790, rxPackets: 4407, rxErrors: 1, rxDropped: 2,
                                                txBytes: 261_111, txPackets: 3440, txErrors: 3, txDropped: 4))
        XCTAssertEqual(JSONWriter.compact(ifs[0].json),
                       #"{"Name":"lo","RxBytes":6386,"RxPackets":58,"RxErrors":0,"RxDropped":0,"TxBytes":6386,"TxPackets":58,"TxErrors":0,"TxDropped":0}"#)
    }

    // MARK: the stats object

    /// A container's v1 directories on the hybrid layout (hugetlb only in cgroup2).
    let v1Paths = ["cpu": "/cg/cpu/c", "cpuacct": "/cg/cpuacct/c", "cpuset": "/cg/cpuset/c", "memory": "/cg/memory/c",
                   "pids": "/cg/pids/c", "blkio": "/cg/blkio/c", "unified": "/cg/unified/c"]

    let v1Files: [String: String] = [
        "/cg/cpuacct/c/cpuacct.stat": "user 3\nsystem 1\n",
        "/cg/cpuacct/c/cpuacct.usage": "12759586\n",
        "/cg/cpuacct/c/cpuacct.usage_percpu": "10822749 1936837 \n",
        "/cg/cpuacct/c/cpuacct.usage_all": "cpu user system\n0 0 8000000\n1 0 4000000\n",
        "/cg/cpu/c/cpu.stat": "nr_periods 10\nnr_throttled 2\nthrottled_time 500\nnr_bursts 0\n",
        "/cg/cpuset/c/cpuset.cpus": "0-1\n",
        "/cg/cpuset/c/cpuset.mems": "0\n",
        "/cg/cpuset/c/cpuset.sched_load_balance": "1\n",
        "/cg/cpuset/c/cpuset.sched_relax_domain_level": "-1\n",
        "/cg/memory/c/memory.stat": "cache 4096\nrss 53248\ntotal_rss 53248\n",
        "/cg/memory/c/memory.usage_in_bytes": "827392\n",
        "/cg/memory/c/memory.max_usage_in_bytes": "2252800\n",
        "/cg/memory/c/memory.limit_in_bytes": "67108864\n",
        "/cg/memory/c/memory.failcnt": "0\n",
        "/cg/memory/c/memory.memsw.usage_in_bytes": "827392\n",
        "/cg/memory/c/memory.memsw.limit_in_bytes": "9223372036854771712\n",
        "/cg/memory/c/memory.kmem.tcp.usage_in_bytes": "0\n",
        "/cg/memory/c/memory.kmem.tcp.limit_in_bytes": "9223372036854771712\n",
        "/cg/pids/c/pids.current": "1\n",
        "/cg/pids/c/pids.max": "max\n",
        "/cg/blkio/c/blkio.throttle.io_serviced_recursive": "8:0 Read 2\n8:0 Write 3\n8:0 Total 5\nTotal 5\n",
        "/cg/blkio/c/blkio.throttle.io_service_bytes_recursive": "8:0 Read 8192\n8:0 Write 12288\nTotal 20480\n",
        "/cg/unified/c/cgroup.procs": "1\n",
    ]

    func testV1StatsAsRuncPrintsThem() {
        let s = CgroupStats.read(v1Paths, hugePageSizes: ["2MB", "1GB"]) { self.v1Files[$0] }
        XCTAssertEqual(s.cpu.user, 30_000_000, "cpuacct.stat ticks are 1/100 s")
        XCTAssertEqual(s.cpu.kernel, 10_000_000)
        XCTAssertEqual(s.pidsLimit, 0, "no pids limit is 0")
        XCTAssertEqual(s.hugetlb, [:], "no hugetlb v1 hierarchy and none enabled in cgroup2")
        let json = JSONWriter.compact(s.json(network: .null))
        XCTAssertEqual(json, """
        {"cpu":{"usage":{"total":12759586,"percpu":[10822749,1936837],"percpu_kernel":[8000000,4000000],"percpu_user":[0,0],"kernel":10000000,"user":30000000},\
        "throttling":{"periods":10,"throttledPeriods":2,"throttledTime":500}},\
        "cpuset":{"cpus":[0,1],"cpu_exclusive":0,"mems":[0],"mem_hardwall":0,"mem_exclusive":0,"memory_migrate":0,"memory_spread_page":0,\
        "memory_spread_slab":0,"memory_pressure":0,"sched_load_balance":1,"sched_relax_domain_level":-1},\
        "memory":{"cache":4096,"usage":{"limit":67108864,"usage":827392,"max":2252800,"failcnt":0},\
        "swap":{"limit":9223372036854771712,"usage":827392,"failcnt":0},"kernel":{"limit":0,"failcnt":0},\
        "kernelTCP":{"limit":9223372036854771712,"failcnt":0},"raw":{"cache":4096,"rss":53248,"total_rss":53248}},\
        "pids":{"current":1},\
        "blkio":{"ioServiceBytesRecursive":[{"major":8,"op":"Read","value":8192},{"major":8,"op":"Write","value":12288}],\
        "ioServicedRecursive":[{"major":8,"op":"Read","value":2},{"major":8,"op":"Write","value":3},{"major":8,"op":"Total","value":5}]},\
        "hugetlb":{},"intel_rdt":{},"network_interfaces":null}
        """)
    }

    func testV1BlkioPrefersTheFirstGroupWithEntries() {
        var files = v1Files
        files["/cg/blkio/c/blkio.io_serviced_recursive"] = "Total 0\n" // CFQ files present but empty: skipped
        files["/cg/blkio/c/blkio.bfq.io_serviced_recursive"] = "8:0 Read 7\nTotal 7\n"
        files["/cg/blkio/c/blkio.bfq.io_service_bytes_recursive"] = "8:0 Read 28672\nTotal 28672\n"
        let s = CgroupStats.read(v1Paths, hugePageSizes: []) { files[$0] }
        XCTAssertEqual(s.blkio.serviced.map(\.value), [7])
        XCTAssertEqual(s.blkio.serviceBytes.map(\.value), [28672])
    }

    func testHugetlbFromV1OrCgroup2() {
        var paths = v1Paths
        paths["hugetlb"] = "/cg/hugetlb/c"
        let v1 = ["/cg/hugetlb/c/hugetlb.2MB.usage_in_bytes": "2097152\n", "/cg/hugetlb/c/hugetlb.2MB.max_usage_in_bytes": "4194304\n",
                  "/cg/hugetlb/c/hugetlb.2MB.failcnt": "1\n"]
        let s1 = CgroupStats.read(paths, hugePageSizes: ["2MB", "1GB"]) { v1[$0] }
        XCTAssertEqual(s1.hugetlb, ["2MB": .init(usage: 2_097_152, max: 4_194_304, failcnt: 1)])
        // The hybrid layout: the controller only on cgroup2, enabled for the container.
        let v2 = ["/cg/unified/c/hugetlb.2MB.current": "0\n", "/cg/unified/c/hugetlb.2MB.events": "max 3\n",
                  "/cg/unified/c/hugetlb.1GB.current": "1073741824\n"]
        let s2 = CgroupStats.read(v1Paths, hugePageSizes: ["1GB", "2MB"]) { v2[$0] }
        XCTAssertEqual(s2.hugetlb, ["2MB": .init(failcnt: 3), "1GB": .init(usage: 1_073_741_824)])
        XCTAssertTrue(JSONWriter.compact(s2.json(network: .null)).contains(#""hugetlb":{"1GB":{"usage":1073741824,"failcnt":0},"2MB":{"failcnt":3}}"#))
    }

    let v2Files: [String: String] = [
        "/cg/c/cpu.stat": "usage_usec 12000\nuser_usec 8000\nsystem_usec 4000\nnr_periods 5\nnr_throttled 1\nthrottled_usec 250\n",
        "/cg/c/memory.stat": "anon 53248\nfile 110592\nkernel 229376\n",
        "/cg/c/memory.current": "655360\n",
        "/cg/c/memory.max": "67108864\n",
        "/cg/c/memory.swap.current": "4096\n",
        "/cg/c/memory.swap.max": "max\n",
        "/cg/c/pids.current": "3\n",
        "/cg/c/pids.max": "100\n",
        "/cg/c/io.stat": "8:0 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n",
    ]

    func testV2StatsInV1Terms() {
        let s = CgroupStats.read(["unified": "/cg/c"], hugePageSizes: ["2MB"]) { self.v2Files[$0] }
        XCTAssertEqual(s.cpu, CgroupStats.CPU(total: 12_000_000, kernel: 4_000_000, user: 8_000_000, periods: 5, throttledPeriods: 1,
                                              throttledTime: 250_000))
        XCTAssertEqual(s.memory.cache, 110_592, "v2's cache is memory.stat's file")
        XCTAssertEqual(s.memory.usage, .init(limit: 67_108_864, usage: 655_360))
        XCTAssertEqual(s.memory.swap, .init(limit: UInt64.max, usage: 659_456), "swap is memory + swap; max stays max")
        XCTAssertEqual(s.memory.raw["kernel"], 229_376)
        XCTAssertEqual(s.pidsCurrent, 3)
        XCTAssertEqual(s.pidsLimit, 100)
        XCTAssertEqual(s.blkio.serviceBytes, [.init(major: 8, minor: 0, op: "Read", value: 4096), .init(major: 8, minor: 0, op: "Write", value: 0)])
        XCTAssertEqual(s.cpuset, CgroupStats.CPUSet(), "runc reports no cpuset on v2")
        var limited = v2Files
        limited["/cg/c/memory.swap.max"] = "1000\n"
        XCTAssertEqual(CgroupStats.read(["unified": "/cg/c"], hugePageSizes: []) { limited[$0] }.memory.swap.limit, 67_109_864)
    }

    func testV2WithoutControllers() {
        // A cgroup2 with no controllers enabled (this host's pure-v2 view):
        // pids counted from cgroup.procs, cpu.stat always there, no memory.
        let files = ["/cg/c/cgroup.procs": "10\n11\n", "/cg/c/cpu.stat": "usage_usec 7\nuser_usec 5\nsystem_usec 2\n"]
        let s = CgroupStats.read(["unified": "/cg/c"], hugePageSizes: ["2MB"]) { files[$0] }
        XCTAssertEqual(s.pidsCurrent, 2)
        XCTAssertEqual(s.pidsLimit, 0)
        XCTAssertEqual(s.cpu.total, 7000)
        XCTAssertEqual(s.memory, CgroupStats.Memory())
        XCTAssertEqual(JSONWriter.compact(s.json(network: .null)), """
        {"cpu":{"usage":{"total":7000,"kernel":2000,"user":5000},"throttling":{}},\
        "cpuset":{"cpu_exclusive":0,"mem_hardwall":0,"mem_exclusive":0,"memory_migrate":0,"memory_spread_page":0,"memory_spread_slab":0,\
        "memory_pressure":0,"sched_load_balance":0,"sched_relax_domain_level":0},\
        "memory":{"usage":{"limit":0,"failcnt":0},"swap":{"limit":0,"failcnt":0},"kernel":{"limit":0,"failcnt":0},"kernelTCP":{"limit":0,"failcnt":0}},\
        "pids":{"current":2},"blkio":{},"hugetlb":{},"intel_rdt":{},"network_interfaces":null}
        """)
    }

    func testEventObjects() {
        XCTAssertEqual(JSONWriter.compact(StatsProbe.event("oom", id: "c1")), #"{"type":"oom","id":"c1"}"#)
        XCTAssertEqual(JSONWriter.compact(StatsProbe.event("stats", id: "c1", data: .object(JSONObject()))), #"{"type":"stats","id":"c1","data":{}}"#)
    }
}
