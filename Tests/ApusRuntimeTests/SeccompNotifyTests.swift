@testable import ApusRuntime
import ApusSpec
import XCTest

/// The seccomp agent's message (runc's ContainerProcessState) and the
/// profile checks that come with SCMP_ACT_NOTIFY.
final class SeccompNotifyTests: XCTestCase {
    private func profile(_ action: SeccompAction, names: [String] = ["mkdir"]) -> Seccomp {
        var s = Seccomp(defaultAction: .SCMP_ACT_ALLOW, syscalls: [SeccompSyscall(names: names, action: action)])
        s.listenerPath = "/run/agent.sock"
        s.listenerMetadata = "m1"
        return s
    }

    func testTheAgentGetsRuncsMessage() throws {
        let state = ContainerState(ociVersion: "1.2.1", id: "c1", status: "running", pid: 10, bundle: "/b",
                                   annotations: ["a": "b"])
        let agent = try XCTUnwrap(SeccompNotify.Agent(profile(.SCMP_ACT_NOTIFY), pid: 42, state: state))
        XCTAssertEqual(agent.path, "/run/agent.sock")
        XCTAssertEqual(JSONWriter.compact(agent.state.json),
                       #"{"ociVersion":"1.2.1","fds":["seccompFd"],"pid":42,"metadata":"m1","#
                           + #""state":{"ociVersion":"1.2.1","id":"c1","status":"running","pid":10,"bundle":"/b","annotations":{"a":"b"}}}"#)
    }

    func testNoNotifyRuleNoAgent() {
        let state = ContainerState(ociVersion: "1.2.1", id: "c1", status: "creating", bundle: "/b")
        XCTAssertNil(SeccompNotify.Agent(profile(.SCMP_ACT_ERRNO), pid: 1, state: state), "listenerPath alone is ignored")
        XCTAssertNil(SeccompNotify.Agent(nil, pid: 1, state: state))
    }

    func testProfileChecks() {
        XCTAssertTrue(SeccompFilter.unsupported(profile(.SCMP_ACT_NOTIFY)).isEmpty)
        XCTAssertEqual(SeccompFilter.unsupported(profile(.SCMP_ACT_NOTIFY, names: ["mkdir", "sendmsg"])).map(\.description),
                       [#"config.json: linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for "sendmsg" (apus hands the listener over with it)"#])
        var waitKill = profile(.SCMP_ACT_ERRNO)
        waitKill.flags = [.SECCOMP_FILTER_FLAG_LOG, .SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV]
        XCTAssertEqual(SeccompFilter.unsupported(waitKill).map(\.path), ["linux.seccomp.flags[1]"])
        waitKill.syscalls = profile(.SCMP_ACT_NOTIFY).syscalls
        XCTAssertTrue(SeccompFilter.unsupported(waitKill).isEmpty)
    }
}

private extension RuntimeError {
    var path: String? { if case .unsupported(let p, _) = self { return p } else { return nil } }
}
