#define _GNU_SOURCE
#include "apus_shim.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_sched_setattr
#define SYS_sched_setattr 314
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

int apus_pipe_cloexec(int fds[2])
{
    return pipe2(fds, O_CLOEXEC);
}

int apus_setresuid(uid_t uid)
{
    return setresuid(uid, uid, uid);
}

int apus_setresgid(gid_t gid)
{
    return setresgid(gid, gid, gid);
}

int apus_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)
{
    return prctl(option, a2, a3, a4, a5);
}

int apus_pivot_root(const char *new_root, const char *put_old)
{
    return (int)syscall(SYS_pivot_root, new_root, put_old);
}

int apus_close_range_cloexec(unsigned int first)
{
    return (int)syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC);
}

int apus_capset(uint32_t version, const uint32_t effective[2], const uint32_t permitted[2], const uint32_t inheritable[2])
{
    struct __user_cap_header_struct hdr = { .version = version, .pid = 0 };
    struct __user_cap_data_struct data[2];
    for (int i = 0; i < 2; i++) {
        data[i].effective = effective[i];
        data[i].permitted = permitted[i];
        data[i].inheritable = inheritable[i];
    }
    return (int)syscall(SYS_capset, &hdr, data);
}

int apus_capget_permitted(uint32_t version, uint32_t permitted[2])
{
    struct __user_cap_header_struct hdr = { .version = version, .pid = 0 };
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &hdr, data) < 0)
        return -1;
    for (int i = 0; i < 2; i++)
        permitted[i] = data[i].permitted;
    return 0;
}

struct apus_open_how {
    uint64_t flags;
    uint64_t mode;
    uint64_t resolve;
};

int apus_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve)
{
    struct apus_open_how how = { .flags = flags, .mode = mode, .resolve = resolve };
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

int64_t apus_mount_id(const char *path)
{
    struct statx st;
    if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &st) < 0)
        return -1;
    if (!(st.stx_mask & STATX_MNT_ID)) {
        errno = ENOSYS;
        return -1;
    }
    return (int64_t)st.stx_mnt_id;
}

int apus_ioctl_int(int fd, unsigned long request, unsigned long arg)
{
    return ioctl(fd, request, arg);
}

int apus_ioctl_ptr(int fd, unsigned long request, void *arg)
{
    return ioctl(fd, request, arg);
}

int apus_pidfd_open(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

int apus_pidfd_send_signal(int pidfd, int sig)
{
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

int apus_send_fd(int sock, int fd)
{
    char byte = 0;
    return apus_send_fd_data(sock, fd, &byte, 1);
}

int apus_send_fd_data(int sock, int fd, const void *data, size_t len)
{
    struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof(u));
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    ssize_t n;
    do {
        n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n >= 0 && (size_t)n != len) {
        errno = EMSGSIZE;
        return -1;
    }
    return n < 0 ? -1 : 0;
}

int apus_setns(int fd, int nstype)
{
    return setns(fd, nstype);
}

int apus_memfd(const char *name)
{
    return memfd_create(name, MFD_CLOEXEC);
}

int apus_seccomp_set_filter(unsigned int flags, const void *filter, unsigned short len)
{
    struct sock_fprog prog = { .len = len, .filter = (struct sock_filter *)filter };
    return (int)syscall(SYS_seccomp, 1 /* SECCOMP_SET_MODE_FILTER */, flags, &prog);
}

int apus_recv_fd(int sock)
{
    char byte;
    int fd;
    ssize_t n = apus_recv_fd_data(sock, &byte, 1, &fd);
    if (n <= 0)
        return -1;
    if (fd < 0) {
        errno = EBADMSG;
        return -1;
    }
    return fd;
}

ssize_t apus_recv_fd_data(int sock, void *buf, size_t len, int *fd)
{
    struct iovec iov = { .iov_base = buf, .iov_len = len };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
    ssize_t n;
    *fd = -1;
    do {
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    struct cmsghdr *cmsg = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
    if (cmsg && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS)
        memcpy(fd, CMSG_DATA(cmsg), sizeof(int));
    return n;
}

int apus_pty_unlock(int master, char *name, size_t len)
{
    if (unlockpt(master) < 0)
        return -1;
    return ptsname_r(master, name, len) == 0 ? 0 : -1;
}

int apus_set_winsize(int fd, unsigned short rows, unsigned short cols)
{
    struct winsize ws = { .ws_row = rows, .ws_col = cols };
    return ioctl(fd, TIOCSWINSZ, &ws);
}

int apus_join_session_keyring(const char *name)
{
    long serial = syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, name, 0, 0, 0);
    if (serial < 0)
        return -1;
    /* Like runc: let the owner (uid) search the keyring too, on top of the
     * kernel's default permissions. Description: "type;uid;gid;perm;name". */
    char desc[256];
    long n = syscall(SYS_keyctl, 6 /* KEYCTL_DESCRIBE */, serial, desc, sizeof(desc) - 1, 0);
    if (n <= 0)
        return 0;
    desc[n < (long)sizeof(desc) ? n : (long)sizeof(desc) - 1] = '\0';
    char *p = desc;
    for (int field = 0; field < 3 && p; field++) {
        p = strchr(p, ';');
        if (p)
            p++;
    }
    if (!p)
        return 0;
    unsigned long perm = strtoul(p, NULL, 16);
    syscall(SYS_keyctl, 5 /* KEYCTL_SETPERM */, serial, perm | 0x080000 /* KEY_USR_SEARCH */, 0, 0);
    return 0;
}

#ifndef APUS_COMMIT
#define APUS_COMMIT "unknown"
#endif

const char *apus_build_commit(void)
{
    return APUS_COMMIT;
}

int apus_signalfd(const sigset_t *mask)
{
    return signalfd(-1, mask, SFD_CLOEXEC | SFD_NONBLOCK);
}

int apus_signalfd_read(int fd)
{
    struct signalfd_siginfo info;
    ssize_t n = read(fd, &info, sizeof(info));
    if (n == (ssize_t)sizeof(info))
        return (int)info.ssi_signo;
    if (n < 0 && errno == EAGAIN)
        return 0;
    return -1;
}

/* The kernel's struct sigaction for rt_sigaction(2) on x86_64 and most others. */
struct apus_kernel_sigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    unsigned long mask;
};

void apus_reset_signals(void)
{
    struct apus_kernel_sigaction dfl = { .handler = SIG_DFL };
    for (int sig = 1; sig <= 64; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(dfl.mask));
    }
    unsigned long none = 0;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof(none));
}

/* include/uapi/linux/sched/types.h, SCHED_ATTR_SIZE_VER1 */
struct apus_sched_attr {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime;
    uint64_t sched_deadline;
    uint64_t sched_period;
    uint32_t sched_util_min;
    uint32_t sched_util_max;
};
_Static_assert(sizeof(struct apus_sched_attr) == 56, "SCHED_ATTR_SIZE_VER1");

int apus_sched_setattr(pid_t pid, uint32_t policy, uint64_t flags, int32_t nice, uint32_t priority,
                       uint64_t runtime, uint64_t deadline, uint64_t period)
{
    struct apus_sched_attr attr = {
        .size = sizeof(attr), .sched_policy = policy, .sched_flags = flags, .sched_nice = nice,
        .sched_priority = priority, .sched_runtime = runtime, .sched_deadline = deadline, .sched_period = period,
    };
    return (int)syscall(SYS_sched_setattr, pid, &attr, 0);
}

int apus_ioprio_set(pid_t pid, int ioprio)
{
    return (int)syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, pid, ioprio);
}

int apus_set_mempolicy(int mode, const uint64_t *nodemask, unsigned long maxnode)
{
    return (int)syscall(SYS_set_mempolicy, mode, nodemask, maxnode);
}

int apus_sched_setaffinity(pid_t pid, const uint64_t *mask, size_t words)
{
    return (int)syscall(SYS_sched_setaffinity, pid, words * sizeof(uint64_t), mask);
}

int apus_sched_getaffinity(pid_t pid, uint64_t *mask, size_t words)
{
    /* The raw syscall returns the size it wrote; the rest stays as given. */
    long n = syscall(SYS_sched_getaffinity, pid, words * sizeof(uint64_t), mask);
    return n < 0 ? -1 : 0;
}

int apus_personality(unsigned long persona)
{
    return personality(persona);
}
