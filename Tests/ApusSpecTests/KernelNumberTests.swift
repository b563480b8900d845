import ApusSpec
import XCTest

/// The kernel numbers the runtime passes to syscalls.
final class KernelNumberTests: XCTestCase {
    func testCapabilities() {
        XCTAssertEqual(Capability.allCases.count, 41)
        XCTAssertEqual(Capability.CAP_CHOWN.number, 0)
        XCTAssertEqual(Capability.CAP_NET_BIND_SERVICE.number, 10)
        XCTAssertEqual(Capability.CAP_SYS_ADMIN.number, 21)
        XCTAssertEqual(Capability.CAP_AUDIT_READ.number, 37)
        XCTAssertEqual(Capability.CAP_CHECKPOINT_RESTORE.number, 40)
        XCTAssertEqual(Capability.last, 40)
        for cap in Capability.allCases {
            XCTAssertEqual(Capability(number: cap.number), cap)
            XCTAssertTrue(cap.rawValue.hasPrefix("CAP_"))
        }
        XCTAssertNil(Capability(number: 41))
        XCTAssertNil(Capability(number: -1))
    }

    func testRlimits() {
        XCTAssertEqual(RlimitType.allCases.count, 16)
        XCTAssertEqual(Set(RlimitType.allCases.map(\.resource)), Set(0...15))
        XCTAssertEqual(RlimitType.RLIMIT_NOFILE.resource, 7)
        XCTAssertEqual(RlimitType.RLIMIT_AS.resource, 9)
        XCTAssertEqual(RlimitType.RLIMIT_RTTIME.resource, 15)
    }

    func testNamespaces() {
        XCTAssertEqual(NamespaceType.allCases.count, 8)
        XCTAssertEqual(NamespaceType.mount.cloneFlag, 0x20000)
        XCTAssertEqual(NamespaceType.cgroup.cloneFlag, 0x0200_0000)
        XCTAssertEqual(NamespaceType.uts.cloneFlag, 0x0400_0000)
        XCTAssertEqual(NamespaceType.ipc.cloneFlag, 0x0800_0000)
        XCTAssertEqual(NamespaceType.user.cloneFlag, 0x1000_0000)
        XCTAssertEqual(NamespaceType.pid.cloneFlag, 0x2000_0000)
        XCTAssertEqual(NamespaceType.network.cloneFlag, 0x4000_0000)
        XCTAssertEqual(NamespaceType.time.cloneFlag, 0x80)
        XCTAssertEqual(NamespaceType.allCases.map(\.procName), ["pid", "net", "mnt", "ipc", "uts", "user", "cgroup", "time"])
    }

    func testOtherEnums() {
        XCTAssertEqual(SchedulerPolicy.allCases.map(\.value), [0, 1, 2, 3, 4, 5, 6])
        XCTAssertEqual(SchedulerFlag.SCHED_FLAG_UTIL_CLAMP_MAX.value, 0x40)
        XCTAssertEqual(IOPriorityClass.IOPRIO_CLASS_IDLE.value, 3)
        XCTAssertEqual(MemoryPolicyMode.MPOL_WEIGHTED_INTERLEAVE.value, 6)
        XCTAssertEqual(MemoryPolicyFlag.MPOL_F_STATIC_NODES.value, 1 << 15)
        XCTAssertEqual(SeccompFlag.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV.value, 32)
        XCTAssertEqual(SeccompAction.allCases.count, 9)
        XCTAssertEqual(SeccompArch.allCases.count, 23)
        XCTAssertEqual(SeccompOperator.allCases.count, 7)
        XCTAssertTrue(SeccompAction.SCMP_ACT_TRACE.takesErrno)
        XCTAssertFalse(SeccompAction.SCMP_ACT_KILL.takesErrno)
    }
}
