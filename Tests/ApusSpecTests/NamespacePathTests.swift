import ApusSpec
import Foundation
import XCTest

final class NamespacePathTests: XCTestCase {
    private func errors(_ namespaces: [[String: String]], sysctl: [String: String]? = nil) throws -> [String] {
        let text = withJSON { c in
            c[path: ["linux", "namespaces"]] = namespaces
            if let sysctl { c[path: ["linux", "sysctl"]] = sysctl }
        }
        return try XCTUnwrap(decodeSpec(text)).validateNamespacePaths().map(\.description)
    }

    func testOwnNamespacesMatchTheirType() throws {
        var namespaces: [[String: String]] = []
        for type in NamespaceType.allCases {
            let path = "/proc/self/ns/\(type.procName)"
            if FileManager.default.fileExists(atPath: path) { namespaces.append(["type": type.rawValue, "path": path]) }
        }
        XCTAssertFalse(namespaces.isEmpty)
        XCTAssertEqual(try errors(namespaces), [])
    }

    func testWrongTypeIsReported() throws {
        XCTAssertEqual(try errors([["type": "pid"], ["type": "network", "path": "/proc/self/ns/ipc"]]),
                       [#"config.json: linux.namespaces[1].path: "/proc/self/ns/ipc" is not a network namespace (it is ipc)"#])
    }

    func testNonNamespaceFiles() throws {
        XCTAssertEqual(try errors([["type": "uts", "path": "/proc/self/status"], ["type": "ipc", "path": "/dev/null"],
                                   ["type": "pid", "path": "/"]]), [
            #"config.json: linux.namespaces[0].path: "/proc/self/status" is not a namespace file"#,
            #"config.json: linux.namespaces[1].path: "/dev/null" is not a namespace file"#,
            #"config.json: linux.namespaces[2].path: "/" is not a namespace file"#,
        ])
        XCTAssertEqual(try errors([["type": "ipc", "path": "/nonexistent/ns"]]),
                       [#"config.json: linux.namespaces[0].path: cannot open "/nonexistent/ns": no such file or directory"#])
    }

    func testNewNamespacesAreNotChecked() throws {
        XCTAssertEqual(try errors([["type": "pid"], ["type": "mount", "path": ""]]), [])
    }

    func testNetSysctlInHostNetworkNamespace() throws {
        XCTAssertEqual(try errors([["type": "network", "path": "/proc/self/ns/net"]], sysctl: ["net.ipv4.ip_forward": "1"]),
                       [#"config.json: linux.sysctl["net.ipv4.ip_forward"]: not allowed in the host network namespace"#])
    }

    func testIpcAndUtsSysctlsInHostNamespaces() throws {
        XCTAssertEqual(try errors([["type": "ipc", "path": "/proc/self/ns/ipc"]], sysctl: ["kernel.shmmax": "1", "fs.mqueue.msg_max": "5"]),
                       [#"config.json: linux.sysctl["fs.mqueue.msg_max"]: not allowed in the host ipc namespace"#,
                        #"config.json: linux.sysctl["kernel.shmmax"]: not allowed in the host ipc namespace"#])
        XCTAssertEqual(try errors([["type": "uts", "path": "/proc/self/ns/uts"]], sysctl: ["kernel.domainname": "x"]),
                       [#"config.json: linux.sysctl["kernel.domainname"]: not allowed in the host uts namespace"#])
        // A sysctl of another family is not affected by the joined namespace.
        XCTAssertEqual(try errors([["type": "uts", "path": "/proc/self/ns/uts"]], sysctl: ["net.ipv4.ip_forward": "1"]), [])
    }
}
