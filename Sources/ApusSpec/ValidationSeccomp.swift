extension Validator {
    mutating func checkSeccomp(_ s: Seccomp, _ at: JSONPath) {
        if s.defaultAction == .SCMP_ACT_NOTIFY {
            fail(at.key("defaultAction"), "SCMP_ACT_NOTIFY cannot be used as default action")
        }
        if s.defaultErrnoRet != nil && !s.defaultAction.takesErrno {
            fail(at.key("defaultErrnoRet"), "not allowed with \(s.defaultAction.rawValue)")
        }
        if s.listenerMetadata?.isEmpty == false && s.listenerPath?.isEmpty ?? true {
            fail(at.key("listenerMetadata"), "requires listenerPath")
        }
        var usesNotify = false
        for (i, call) in (s.syscalls ?? []).enumerated() {
            let callAt = at.key("syscalls").index(i)
            if call.names.isEmpty { fail(callAt.key("names"), "must contain at least one entry") }
            for (j, name) in call.names.enumerated() {
                if name.isEmpty { fail(callAt.key("names").index(j), "must not be empty") }
                // The notify agent would need write(2) to answer: deadlock. runc's
                // words (tools match on them), after the JSON path.
                if call.action == .SCMP_ACT_NOTIFY && name == "write" {
                    fail(callAt.key("names").index(j), "SCMP_ACT_NOTIFY cannot be used for the write syscall")
                }
            }
            if call.errnoRet != nil && !call.action.takesErrno {
                fail(callAt.key("errnoRet"), "not allowed with \(call.action.rawValue)")
            }
            for (k, arg) in (call.args ?? []).enumerated() where arg.index > 5 {
                fail(callAt.key("args").index(k).key("index"), "\(arg.index) is out of range (0...5)")
            }
            usesNotify = usesNotify || call.action == .SCMP_ACT_NOTIFY
        }
        if usesNotify && s.listenerPath?.isEmpty ?? true {
            fail(at.key("listenerPath"), "required when SCMP_ACT_NOTIFY is used")
        }
    }
}
