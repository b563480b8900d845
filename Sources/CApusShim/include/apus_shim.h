/*
 * The small C part of Apus: what Swift cannot do safely or at all —
 * the fork-into-namespaces dance (setns/unshare/clone with CLONE_PARENT
 * around fork), variadic or wrapper-less syscalls, and SCM_RIGHTS.
 * Everything else, including all policy, lives in Swift.
 */
#ifndef APUS_SHIM_H
#define APUS_SHIM_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#define APUS_MAX_JOIN 8

/* Linux open flags that Glibc's Swift module hides behind _GNU_SOURCE. */
#define APUS_O_PATH 010000000

/* Messages on the sync socket between `apus create` and the child stages. */
enum apus_sync_type {
    APUS_SYNC_USERNS_READY = 1, /* stage1 → parent: namespaces joined, user ns created; value = stage1 pid */
    APUS_SYNC_USERNS_DONE = 2,  /* parent → stage1: id maps written, cgroups joined */
    APUS_SYNC_INIT_PID = 3,     /* stage1 → parent: value = container init pid */
    APUS_SYNC_ERROR = 4,        /* child → parent: value = errno, text = what failed */
    APUS_SYNC_HOOKS = 5,        /* init → parent: run prestart/createRuntime hooks now */
    APUS_SYNC_HOOKS_DONE = 6,   /* parent → init */
    APUS_SYNC_READY = 7,        /* init → parent: set up, about to wait for start */
    APUS_SYNC_GO = 8,           /* parent → exec'd process: in the cgroups now, exec */
    APUS_SYNC_SECCOMP = 9,      /* process → parent: the seccomp listener follows (SCM_RIGHTS) */
    APUS_SYNC_SECCOMP_DONE = 10, /* parent → process: the seccomp agent has it */
};

struct apus_sync_msg {
    int32_t type;
    int32_t value;
    char text[480];
};

struct apus_spawn_config {
    int clone_flags;                 /* CLONE_NEW* namespaces to create */
    int join_fds[APUS_MAX_JOIN];     /* namespace files to setns() into, user ns first */
    int join_types[APUS_MAX_JOIN];   /* their CLONE_NEW* types */
    int join_count;
    int join_pidfd;                  /* >= 0: setns(join_pidfd, join_pidfd_flags) first (all at once) */
    int join_pidfd_flags;
    int sync_fd;                     /* the children's end of the sync socketpair */
    int parent_sync_fd;              /* the parent's end: closed at once in the child */
    pid_t parent_pid;                /* set by apus_spawn */
    const char *timens_offsets;      /* written after unshare(CLONE_NEWTIME); may be NULL */
    int dumpable_for_maps;           /* unprivileged parent: dumpable while it writes our id maps */
    int direct;                      /* no user/time namespace, nothing to join: clone the init itself */
};

/*
 * Forks the container init into its namespaces. In the caller it returns
 * the pid of the intermediate stage (the parent then speaks the sync
 * protocol: USERNS_READY → USERNS_DONE → INIT_PID); in the container init
 * it returns 0; -1 with errno if the first fork fails. The init is created
 * with CLONE_PARENT, so it is the caller's child and can be waited for.
 * With `direct` there is no intermediate stage: the caller gets the init's
 * pid, joins it to its cgroups and sends USERNS_DONE (no other message);
 * the init then makes its cgroup namespace, if asked, and goes on.
 */
pid_t apus_spawn(struct apus_spawn_config *cfg);

int apus_sync_send(int fd, int32_t type, int32_t value, const char *text);
/* Returns 1 on a message, 0 on EOF, -1 on error. */
int apus_sync_recv(int fd, struct apus_sync_msg *msg);

int apus_send_fd(int sock, int fd);
/* One sendmsg: `len` bytes of data with `fd` in SCM_RIGHTS (the seccomp agent protocol). */
int apus_send_fd_data(int sock, int fd, const void *data, size_t len);
int apus_recv_fd(int sock);
/* One recvmsg into buf; *fd = a descriptor that came with it (SCM_RIGHTS,
 * close-on-exec) or -1. Returns recvmsg's result. */
ssize_t apus_recv_fd_data(int sock, void *buf, size_t len, int *fd);
int apus_setns(int fd, int nstype);
/* seccomp(SECCOMP_SET_MODE_FILTER, flags, {len, filter}): flags libseccomp 2.5 cannot set. */
int apus_seccomp_set_filter(unsigned int flags, const void *filter, unsigned short len);
int apus_memfd(const char *name); /* memfd_create(name, MFD_CLOEXEC) */

int apus_pipe_cloexec(int fds[2]);
int apus_setresuid(uid_t uid);
int apus_setresgid(gid_t gid);
int apus_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5);
int apus_pivot_root(const char *new_root, const char *put_old);
int apus_close_range_cloexec(unsigned int first);
int apus_capset(uint32_t version, const uint32_t effective[2], const uint32_t permitted[2], const uint32_t inheritable[2]);
/* The calling thread's permitted set (capget). */
int apus_capget_permitted(uint32_t version, uint32_t permitted[2]);
/* openat2(2) with the given resolve flags; -1 with errno on failure. */
int apus_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);
/* The ID of the mount `path` is on (statx STATX_MNT_ID, not following a final symlink); -1 with errno. */
int64_t apus_mount_id(const char *path);
int apus_ioctl_int(int fd, unsigned long request, unsigned long arg);
int apus_ioctl_ptr(int fd, unsigned long request, void *arg);
int apus_pidfd_open(pid_t pid);
int apus_pidfd_send_signal(int pidfd, int sig);
/* ptsname_r + unlockpt for a /dev/ptmx fd. */
int apus_pty_unlock(int master, char *name, size_t len);
int apus_set_winsize(int fd, unsigned short rows, unsigned short cols);
/* keyctl(KEYCTL_JOIN_SESSION_KEYRING, name): a fresh session keyring. */
int apus_join_session_keyring(const char *name);

/*
 * Every signal back to SIG_DFL and unblocked, through the raw syscalls:
 * glibc refuses to touch the two real-time signals it reserves (32, 33),
 * yet an ignored one would survive execve into the container.
 */
void apus_reset_signals(void);

/* signalfd for every signal in `mask` (close-on-exec, non-blocking). */
int apus_signalfd(const sigset_t *mask);
/* Reads one signal from a signalfd: its number, 0 when none is pending, -1 on error. */
int apus_signalfd_read(int fd);


/* ---- process attributes (Process/ProcessAttributes.swift); pid 0 is the caller ---- */
/* sched_setattr(2) with a struct sched_attr of SCHED_ATTR_SIZE_VER1 (no util clamps). */
int apus_sched_setattr(pid_t pid, uint32_t policy, uint64_t flags, int32_t nice, uint32_t priority,
                       uint64_t runtime, uint64_t deadline, uint64_t period);
/* ioprio_set(IOPRIO_WHO_PROCESS, pid, ioprio). */
int apus_ioprio_set(pid_t pid, int ioprio);
/* set_mempolicy(2) (the caller only); nodemask may be NULL with maxnode 0. */
int apus_set_mempolicy(int mode, const uint64_t *nodemask, unsigned long maxnode);
/* sched_setaffinity(2) / sched_getaffinity(2) with a mask of `words` 64-bit words. */
int apus_sched_setaffinity(pid_t pid, const uint64_t *mask, size_t words);
int apus_sched_getaffinity(pid_t pid, uint64_t *mask, size_t words);
/* personality(2) (glibc's is hidden from Swift): the previous persona, or -1. */
int apus_personality(unsigned long persona);

/* ---- fd-based mounts (new mount API): no path is re-resolved ---- */
/* open_tree(2): flags OPEN_TREE_CLONE etc.; returns an O_PATH mount fd. */
int apus_open_tree(int dirfd, const char *path, unsigned int flags);
/* move_mount(2) from one fd to another (both AT_EMPTY_PATH). */
int apus_move_mount_fd(int from_fd, int to_fd);
/* mount_setattr(2) on fd itself (AT_EMPTY_PATH), optionally AT_RECURSIVE:
 * MOUNT_ATTR_* to set and clear, a propagation type (MS_SHARED, ... or 0)
 * and, with MOUNT_ATTR_IDMAP, the user namespace carrying the mapping. */
int apus_mount_setattr(int fd, int recursive, uint64_t attr_set, uint64_t attr_clr, uint64_t propagation, int userns_fd);
int apus_mount_setattr_fd(int fd, int recursive, uint64_t attr_set, uint64_t attr_clr);
/* fsopen(2) / fspick(2) of fd itself; fsconfig(2) of one parameter (a flag
 * when value is NULL); CMD_CREATE + fsmount(2) with MOUNT_ATTR_* flags;
 * CMD_RECONFIGURE. All close-on-exec, -1 with errno. */
int apus_fsopen(const char *fstype);
int apus_fspick(int fd);
int apus_fsconfig(int fs, const char *key, const char *value);
int apus_fsmount_create(int fs, uint64_t attr_flags);
int apus_fs_reconfigure(int fs);
/* The filesystem's last error message from an fs context fd into buf; 1 if any. */
int apus_fs_log(int fs, char *buf, size_t len);
/* fsopen + optional "key=value" string options + create + fsmount: a detached
 * mount of a new filesystem instance (e.g. "proc", "tmpfs"); -1 with errno. */
int apus_fsmount_new(const char *fstype, const char *const *keys, const char *const *values, int count,
                     uint64_t attr_flags);

/* A child that has unshared a new user namespace and waits to be killed
 * (SIGKILL, or its parent's death): the parent writes its id maps and
 * keeps /proc/<pid>/ns/user, e.g. for an id-mapped mount. Returns its pid,
 * -1 with errno (the child's, if unshare failed). */
pid_t apus_userns_child(void);
/* 1 if syscall number nr is missing from this kernel (ENOSYS). */
int apus_syscall_missing(long nr);

/* ---- the runtime's own binary (CVE-2019-5736) ---- */
/* 1 if /proc/self/exe (opened under procfd) can not be written through:
 * a read-only mount or a write-sealed memfd; 0 if it can; -1 on error. */
int apus_exe_is_sealed(int procfd);
/* Set in the environment across the re-exec into the protected image. */
#define APUS_SEALED_MARKER "_APUS_SEALED_EXEC"
/* Re-executes argv from a read-only, detached bind mount of /proc/self/exe,
 * or (no mount API, or force_memfd) a sealed memfd copy. Returns only on
 * failure: -1, errno, and the call that failed. */
int apus_exe_reexec_sealed(int procfd, char *const argv[], int force_memfd, const char **failed_call);
/* 1 if fd is the root of a procfs (fstatfs magic, root inode), 0 if not,
 * -1 with errno. The one check of procfs handles (System/ProcFS.swift). */
int apus_procfs_verify(int fd);
/* The caller's /proc, O_PATH, verified to be a procfs root; -1 with errno
 * (EXDEV: not procfs). */
int apus_procfs_host(void);
/* Stage 0 (fdmount.c): re-exec into the protected image when argv names
 * create, run or exec, before the Swift runtime starts; best effort. */
void apus_seal_early(int argc, char **argv);
/* 1 if argv's subcommand (past runc's global flags) is create, run or
 * exec: stage 0's one test, for the re-exec and fault-around alike. */
int apus_names_sealed_command(int argc, char **argv);
/* Opens /dev/null on whichever of 0, 1 and 2 the caller left closed, so
 * that nothing apus opens later (a directory, a namespace, a userfaultfd)
 * can stand for a child's stdio; errno is left alone. */
void apus_stdio_ensure(void);

/* Fault-around off for apus's own image (CApusShim/faultaround.c): a
 * userfaultfd, close-on-exec, registered for asynchronous write-protect
 * tracking on the executable's read-only mappings but the hot functions. Does
 * nothing where the kernel cannot; errno is left alone. */
void apus_fault_around_off(void);
/* Closes it (the kernel unregisters): fault-around is back. */
void apus_fault_around_end(void);
/* Its descriptor, or -1 (to keep it when closing inherited descriptors). */
int apus_fault_around_fd(void);
/* In a forked child, first thing: drops the parent's descriptor (one must
 * never reach another process) and, if rearm, arms the child's own. */
void apus_fault_around_child(int rearm);

/* fstatfs(2)'s f_type (the filesystem magic), -1 with errno. */
long apus_fs_magic(int fd);
/* PR_CAPBSET_READ probing: the highest capability the kernel knows. */
int apus_probe_last_cap(void);
/* close(2) every fd >= first except those in keep[] (sorted or not, at most 256 >= first: E2BIG). */
int apus_close_fds_except(unsigned int first, const int *keep, int nkeep);
/* Clears ONLCR on a terminal (runc's output is "\n", not "\r\n"). */
int apus_clear_onlcr(int fd);

/* renameat2(RENAME_NOREPLACE): fails with EEXIST when `to` exists (even an empty directory). */
int apus_rename_noreplace(const char *from, const char *to);

/* The git commit the binary was built from (set by the Makefile), or "unknown". */
const char *apus_build_commit(void);

#endif
