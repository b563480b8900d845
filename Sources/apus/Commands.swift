import ApusCLI
import ApusRuntime
import ApusSpec

/// One subcommand: its runc-compatible flags and what it does.
struct Command {
    let name: String
    let usage: String
    let summary: String
    var flags: [Flag] = []
    var args: ArgCount = .exactly(1)
    /// false for exec: what follows the container id is the command to run.
    var reorder = true
    var run: ((Invocation) throws -> Int32)?
}

struct Invocation {
    let global: GlobalOptions
    let flags: ParsedFlags
    let args: [String]
    var runtime: Runtime {
        var r = Runtime(root: global.root, log: global.logger)
        r.store.sticky = global.rootFromXDG
        r.toleratesCgroupErrors = Rootless.toleratesCgroupErrors(global.rootless)
        return r
    }
}

let createFlags: [Flag] = [
    .value("bundle", "b", help: "path to the root of the bundle directory, defaults to the current directory"),
    .value("console-socket", help: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal"),
    .value("pid-file", help: "specify the file to write the process id to"),
    .bool("no-pivot", help: "do not use pivot root to jail process inside rootfs"),
    .bool("no-new-keyring", help: "do not create a new session keyring for the container"),
    .value("preserve-fds", help: "Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)"),
]

let criuFlags: [Flag] = [
    .value("image-path", help: "path for saving criu image files"),
    .value("work-path", help: "path for saving work files and logs"),
    .bool("tcp-established", help: "allow open tcp connections"),
    .bool("ext-unix-sk", help: "allow external unix sockets"),
    .bool("shell-job", help: "allow shell jobs"),
    .bool("file-locks", help: "handle file locks, for safety"),
    .value("manage-cgroups-mode", help: "cgroups mode: 'soft' (default), 'full' and 'strict'"),
    .value("empty-ns", help: "create a namespace, but don't restore its properties"),
    .bool("auto-dedup", help: "enable auto deduplication of memory images"),
    .bool("lazy-pages", help: "use userfaultfd to lazily restore memory pages"),
]

let commands: [Command] = [
    Command(name: "check", usage: "", summary: "check a bundle without creating anything: every config error, and what the container would not isolate",
            flags: [.value("bundle", "b", help: "path to the root of the bundle directory, defaults to the current directory"),
                    .value("format", "f", help: "select one of: text or json (default: \"text\")"),
                    .bool("strict", help: "exit with status 1 on any risk as well as on an error")],
            args: .exactly(0), run: Handlers.check),
    Command(name: "checkpoint", usage: "<container-id>", summary: "checkpoint a running container",
            flags: criuFlags + [
                .value("parent-path", help: "path for previous criu image files in pre-dump"),
                .bool("leave-running", help: "leave the process running after checkpointing"),
                .value("status-fd", help: "criu writes \\0 to this FD once lazy-pages is ready"),
                .value("page-server", help: "ADDRESS:PORT of the page server"),
                .bool("pre-dump", help: "dump container's memory information only, leave the container running after this"),
            ], run: CheckpointHandlers.checkpoint),
    Command(name: "create", usage: "<container-id>", summary: "create a container", flags: createFlags, run: Handlers.create),
    Command(name: "delete", usage: "<container-id>", summary: "delete any resources held by the container often used with detached container",
            flags: [.bool("force", "f", help: "Forcibly deletes the container if it is still running (uses SIGKILL)")],
            run: Handlers.delete),
    Command(name: "events", usage: "<container-id>", summary: "display container events such as OOM notifications, cpu, memory, and IO usage statistics",
            flags: [.value("interval", help: "set the stats collection interval (default: 5s)"),
                    .bool("stats", help: "display the container's stats then exit")],
            run: Handlers.events),
    Command(name: "exec", usage: "<container-id> <command> [command options]", summary: "execute new process inside the container",
            flags: [
                .value("console-socket", help: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal"),
                .value("cwd", help: "current working directory in the container"),
                .value("env", "e", help: "set environment variables"),
                .bool("tty", "t", help: "allocate a pseudo-TTY"),
                .value("user", "u", help: "UID (format: <uid>[:<gid>])"),
                .value("additional-gids", "g", help: "additional gids"),
                .value("process", "p", help: "path to the process.json"),
                .bool("detach", "d", help: "detach from the container's process"),
                .value("pid-file", help: "specify the file to write the process id to"),
                .value("process-label", help: "set the asm process label for the process commonly used with selinux"),
                .value("apparmor", help: "set the apparmor profile for the process"),
                .bool("no-new-privs", help: "set the no new privileges value for the process"),
                .value("cap", "c", help: "add a capability to the bounding set for the process"),
                .value("preserve-fds", help: "Pass N additional file descriptors to the container"),
                .value("cgroup", help: "run the process in an (existing) sub-cgroup(s)"),
                .bool("ignore-paused", help: "allow exec in a paused container"),
            ], args: .atLeast(1), reorder: false, run: Handlers.exec),
    Command(name: "features", usage: "", summary: "show the enabled features", args: .exactly(0), run: Handlers.features),
    Command(name: "inspect", usage: "<container-id>", summary: "show what a container really isolates, read from the kernel, and its risks",
            flags: [.value("format", "f", help: "select one of: table or json (default: \"table\")")], run: Handlers.inspect),
    Command(name: "kill", usage: "<container-id> [signal]", summary: "kill sends the specified signal (default: SIGTERM) to the container's init process",
            flags: [.bool("all", "a", help: "send the specified signal to all processes inside the container")],
            args: .between(1, 2), run: Handlers.kill),
    Command(name: "list", usage: "", summary: "lists containers started by apus with the given root",
            flags: [.value("format", "f", help: "select one of: table or json (default: \"table\")"),
                    .bool("quiet", "q", help: "display only container IDs")],
            args: .exactly(0), run: Handlers.list),
    Command(name: "pause", usage: "<container-id>", summary: "pause suspends all processes inside the container", run: Handlers.pause),
    Command(name: "ps", usage: "<container-id> [ps options]", summary: "ps displays the processes running inside a container",
            flags: [.value("format", "f", help: "select one of: table or json (default: \"table\")")], args: .atLeast(1),
            reorder: false, run: Handlers.ps),
    Command(name: "restore", usage: "<container-id>", summary: "restore a container from a previous checkpoint",
            flags: criuFlags + [
                .value("console-socket", help: "path to an AF_UNIX socket which will receive the console's master fd"),
                .value("bundle", "b", help: "path to the root of the bundle directory"),
                .bool("detach", "d", help: "detach from the container's process"),
                .value("pid-file", help: "specify the file to write the process id to"),
                .bool("no-subreaper", help: "disable the use of the subreaper used to reap reparented processes"),
                .bool("no-pivot", help: "do not use pivot root to jail process inside rootfs"),
                .value("lsm-profile", help: "Specify an LSM profile to be used during restore in the form of TYPE:NAME"),
                .value("lsm-mount-context", help: "Specify an LSM mount context to be used during restore"),
            ], run: CheckpointHandlers.restore),
    Command(name: "resume", usage: "<container-id>", summary: "resumes all processes that have been previously paused", run: Handlers.resume),
    Command(name: "run", usage: "<container-id>", summary: "create and run a container",
            flags: createFlags + [
                .bool("detach", "d", help: "detach from the container's process"),
                .bool("keep", help: "do not delete the container after it exits"),
                .bool("no-subreaper", help: "disable the use of the subreaper used to reap reparented processes"),
            ], run: Handlers.run),
    Command(name: "spec", usage: "", summary: "create a new specification file",
            flags: [.value("bundle", "b", help: "path to the root of the bundle directory"),
                    .bool("rootless", help: "generate a configuration for a rootless container")],
            args: .exactly(0), run: Handlers.spec),
    Command(name: "start", usage: "<container-id>", summary: "executes the user defined process in a created container", run: Handlers.start),
    Command(name: "state", usage: "<container-id>", summary: "output the state of a container", run: Handlers.state),
    Command(name: "update", usage: "<container-id>", summary: "update container resource constraints",
            flags: [
                .value("resources", "r", help: "path to the file containing the resources to update or '-' to read from the standard input"),
                .value("blkio-weight", help: "Specifies per cgroup weight, range is from 10 to 1000"),
                .value("cpu-period", help: "CPU CFS period to be used for hardcapping (in usecs)"),
                .value("cpu-quota", help: "CPU CFS hardcap limit (in usecs)"),
                .value("cpu-share", "cpu-shares", help: "CPU shares (relative weight vs. other containers)"),
                .value("cpu-rt-period", help: "CPU realtime period to be used for hardcapping (in usecs)"),
                .value("cpu-rt-runtime", help: "CPU realtime hardcap limit (in usecs)"),
                .value("cpuset-cpus", help: "CPU(s) to use"),
                .value("cpuset-mems", help: "Memory node(s) to use"),
                .value("memory", help: "Memory limit (in bytes)"),
                .value("memory-reservation", help: "Memory reservation or soft_limit (in bytes)"),
                .value("memory-swap", help: "Total memory usage (memory + swap); set '-1' to enable unlimited swap"),
                .value("kernel-memory", help: "(obsoleted; do not use)"),
                .value("kernel-memory-tcp", help: "(obsoleted; do not use)"),
                .value("pids-limit", help: "Maximum number of pids allowed in the container"),
                .value("l3-cache-schema", help: "The string of Intel RDT/CAT L3 cache schema"),
                .value("mem-bw-schema", help: "The string of Intel RDT/MBA memory bandwidth schema"),
            ], args: .exactly(1), run: Handlers.update),
]
