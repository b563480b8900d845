@testable import ApusRuntime
import ApusSpec
import Glibc
import XCTest

/// The pure parts of process attributes, exec's process and `exec --cgroup`.
final class ProcessAttributesTests: XCTestCase {
    func testBitmapWords() {
        XCTAssertEqual(Bitmap.words([]), [0])
        XCTAssertEqual(Bitmap.words([0...0]), [1])
        XCTAssertEqual(Bitmap.words([0...3, 7...7]), [0x8f])
        XCTAssertEqual(Bitmap.words([63...64]), [1 << 63, 1])
        XCTAssertEqual(Bitmap.words([1...1], bits: 129), [2, 0, 0], "at least `bits` bits, in whole words")
        XCTAssertEqual(Bitmap.words([0...0], bits: 128).count, 2)
        XCTAssertEqual(Bitmap.words([200...200], bits: 64).count, 4, "grows for a high CPU")
        XCTAssertEqual(CPUAffinity.words * 64 > CPUList.maxID, true, "every CPU a list may name fits")
    }

    func testIOPriorityValueAndSchedulerDescription() {
        XCTAssertEqual(ProcessAttributes.ioprio(IOPriority(class: .IOPRIO_CLASS_BE, priority: 6)), 2 << 13 | 6)
        XCTAssertEqual(ProcessAttributes.ioprio(IOPriority(class: .IOPRIO_CLASS_RT, priority: 0)), 1 << 13)
        XCTAssertEqual(ProcessAttributes.ioprio(IOPriority(class: .IOPRIO_CLASS_IDLE, priority: 7)), 3 << 13 | 7)
        var s = Scheduler(policy: .SCHED_DEADLINE)
        s.runtime = 1
        s.deadline = 2
        s.period = 3
        s.flags = ["SCHED_FLAG_RESET_ON_FORK"]
        XCTAssertEqual(ProcessAttributes.describe(s), "SCHED_DEADLINE, runtime 1 deadline 2 period 3, SCHED_FLAG_RESET_ON_FORK")
        var fifo = Scheduler(policy: .SCHED_FIFO)
        fifo.priority = 10
        XCTAssertEqual(ProcessAttributes.describe(fifo), "SCHED_FIFO, priority 10")
    }

    func testInitGetsEverythingExecOnlyItsOwnPart() {
        var p = Process(args: ["true"])
        p.scheduler = Scheduler(policy: .SCHED_BATCH)
        p.ioPriority = IOPriority(class: .IOPRIO_CLASS_BE, priority: 1)
        var l = Linux()
        l.personality = Personality(domain: .LINUX32)
        l.memoryPolicy = MemoryPolicy(mode: .MPOL_LOCAL)
        let initial = ProcessAttributes(process: p, linux: l)
        XCTAssertEqual(initial.scheduler, p.scheduler)
        XCTAssertEqual(initial.ioPriority, p.ioPriority)
        XCTAssertEqual(initial.personality, l.personality)
        let exec = ProcessAttributes(linux: l)
        XCTAssertNil(exec.scheduler, "apus exec sets it once the process is in the cgroups")
        XCTAssertNil(exec.ioPriority)
        XCTAssertEqual(exec.memoryPolicy, l.memoryPolicy)
    }

    func testSubCgroupArgumentsFollowRunc() throws {
        XCTAssertEqual(try SubCgroups.parse([]), [:])
        XCTAssertEqual(try SubCgroups.parse(["sub"]), ["": "sub"])
        XCTAssertEqual(try SubCgroups.parse(["cpu,cpuacct:a", "memory:/b"]), ["cpu": "a", "cpuacct": "a", "memory": "/b"])
        XCTAssertThrowsError(try SubCgroups.parse(["a", "b"])) {
            XCTAssertEqual("\($0)", "invalid --cgroup argument: a (missing <controller>: prefix)")
        }
        XCTAssertThrowsError(try SubCgroups.parse([":x"])) {
            XCTAssertEqual("\($0)", "invalid --cgroup argument: :x (empty <controller> prefix)")
        }
        XCTAssertThrowsError(try SubCgroups.parse(["cpu:a", "cpu:b"])) {
            XCTAssertEqual("\($0)", "invalid --cgroup argument(s): controller cpu specified multiple times")
        }
    }

    func testSubCgroupPaths() throws {
        var template = Array("/tmp/apus-unit-XXXXXX".utf8CString)
        let root = String(cString: mkdtemp(&template)!)
        defer { try? FS.removeTree(root) }
        let base = ["cpu,cpuacct": root + "/cpu/c", "memory": root + "/memory/c", "unified": root + "/unified/c"]
        for dir in base.values { try FS.mkdirAll(dir + "/sub") }
        XCTAssertEqual(try SubCgroups.paths(base, [:]), base)
        XCTAssertEqual(try SubCgroups.paths(base, ["": "/sub/"]), base.mapValues { $0 + "/sub" })
        XCTAssertEqual(try SubCgroups.paths(base, ["": ""]), base)
        var memOnly = base
        memOnly["memory"] = root + "/memory/c/sub"
        XCTAssertEqual(try SubCgroups.paths(base, ["memory": "sub"]), memOnly)
        var cpu = base
        cpu["cpu,cpuacct"] = root + "/cpu/c/sub"
        XCTAssertEqual(try SubCgroups.paths(base, ["cpu": "sub", "cpuacct": "sub"]), cpu)
        XCTAssertThrowsError(try SubCgroups.paths(base, ["cpu": "sub", "cpuacct": "other"]))
        XCTAssertThrowsError(try SubCgroups.paths(base, ["pids": "sub"]), "no such hierarchy")
        XCTAssertThrowsError(try SubCgroups.paths(base, ["memory": "missing"]), "must exist")
        XCTAssertThrowsError(try SubCgroups.paths(base, ["": "sub/../../c2"]), "may not climb out")
    }

    func testExecProcessJSONChecks() throws {
        var p = Process(args: ["true"])
        XCTAssertNil(Support.unsupported(p, at: .root))
        // Labels for an LSM the host lacks (LSMTests covers both cases).
        p.apparmorProfile = "x"
        if !LSM.host.apparmor {
            XCTAssertEqual(Support.unsupported(p, at: .root)?.description,
                           "config.json: apparmorProfile: apparmor profile is specified in config, but apparmor is not enabled on this host")
        }
        p.apparmorProfile = nil
        p.selinuxLabel = "l"
        if !LSM.host.selinux {
            XCTAssertEqual(Support.unsupported(p, at: JSONPath.root.key("process"))?.path, "process.selinuxLabel")
        }
        p.selinuxLabel = ""
        var rr = Scheduler(policy: .SCHED_RR)
        rr.priority = 1
        rr.nice = 5
        p.scheduler = rr
        XCTAssertEqual(Support.unsupported(p, at: .root)?.path, "scheduler.nice", "the kernel ignores nice for real-time policies")
        rr.nice = 0
        p.scheduler = rr
        XCTAssertNil(Support.unsupported(p, at: .root))
    }

    func testFeaturesListEveryMemoryPolicy() {
        let mp = FeaturesReport.current.linux?.memoryPolicy
        XCTAssertEqual(mp?.modes?.count, MemoryPolicyMode.allCases.count)
        XCTAssertEqual(mp?.flags?.sorted(), ["MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES"])
    }
}
