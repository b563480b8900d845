#define _GNU_SOURCE
#include "apus_shim.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int apus_sync_send(int fd, int32_t type, int32_t value, const char *text)
{
    struct apus_sync_msg msg;
    memset(&msg, 0, sizeof(msg));
    msg.type = type;
    msg.value = value;
    if (text)
        snprintf(msg.text, sizeof(msg.text), "%s", text);
    ssize_t n;
    do {
        n = send(fd, &msg, sizeof(msg), MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof(msg) ? 0 : -1;
}

int apus_sync_recv(int fd, struct apus_sync_msg *msg)
{
    ssize_t n;
    do {
        n = recv(fd, msg, sizeof(*msg), 0);
    } while (n < 0 && errno == EINTR);
    if (n == 0)
        return 0;
    if (n != (ssize_t)sizeof(*msg)) {
        if (n > 0)
            errno = EPROTO;
        return -1;
    }
    msg->text[sizeof(msg->text) - 1] = '\0';
    return 1;
}

/* Reports a failed step to the parent and ends this stage. */
static void stage_fail(int sync_fd, const char *what)
{
    int err = errno;
    apus_sync_send(sync_fd, APUS_SYNC_ERROR, err, what);
    _exit(1);
}

static void write_timens_offsets(int sync_fd, const char *offsets)
{
    int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        stage_fail(sync_fd, "open(/proc/self/timens_offsets)");
    size_t len = strlen(offsets);
    if (write(fd, offsets, len) != (ssize_t)len)
        stage_fail(sync_fd, "write(/proc/self/timens_offsets)");
    close(fd);
}

/*
 * Stage 1 joins the namespaces given by path, creates the user namespace
 * (so the parent can write its id maps from outside), then the others, and
 * clones the init with CLONE_PARENT: the init is the first process in the
 * new pid and time namespaces, which unshare() only applies to children.
 */
static void stage1(const struct apus_spawn_config *cfg)
{
    int fd = cfg->sync_fd;
    char what[64];
    int in_userns = cfg->clone_flags & CLONE_NEWUSER;

    apus_fault_around_child(0); /* only C runs in this stage */
    /* Until it execs the user's program, nothing in the container may
     * ptrace this image or open its /proc/<pid>/exe; the init and exec
     * children inherit this from the start. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    /* If apus dies before the init exists, this stage must not linger:
     * the parent's death is EOF on the socket (we hold only our end)
     * and, before that is read, SIGKILL. */
    close(cfg->parent_sync_fd);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != cfg->parent_pid)
        _exit(1);

    /* One setns through a pidfd joins all of a process's namespaces at
     * once (user first, by the kernel): no window in which its pid could
     * be reused between a check and the join. */
    if (cfg->join_pidfd >= 0) {
        if (cfg->join_pidfd_flags & CLONE_NEWUSER)
            in_userns = 1;
        if (setns(cfg->join_pidfd, cfg->join_pidfd_flags) < 0) {
            snprintf(what, sizeof(what), "setns(pidfd, %#x)", cfg->join_pidfd_flags);
            stage_fail(fd, what);
        }
        close(cfg->join_pidfd);
    }
    for (int i = 0; i < cfg->join_count; i++) {
        if (cfg->join_types[i] == CLONE_NEWUSER)
            in_userns = 1;
        if (setns(cfg->join_fds[i], cfg->join_types[i]) < 0) {
            snprintf(what, sizeof(what), "setns(ns type %#x)", cfg->join_types[i]);
            stage_fail(fd, what);
        }
        close(cfg->join_fds[i]);
    }
    if ((cfg->clone_flags & CLONE_NEWUSER) && unshare(CLONE_NEWUSER) < 0)
        stage_fail(fd, "unshare(CLONE_NEWUSER)");
    /* A non-dumpable process's /proc/<pid> files belong to the host's
     * root: an unprivileged parent (and newuidmap, which checks that the
     * caller owns the process) could not write our maps. Dumpable only
     * while we wait for them, as runc does; we run nothing meanwhile. */
    int dumpable = cfg->dumpable_for_maps && (cfg->clone_flags & CLONE_NEWUSER);
    if (dumpable && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
        stage_fail(fd, "prctl(PR_SET_DUMPABLE, 1)");

    if (apus_sync_send(fd, APUS_SYNC_USERNS_READY, getpid(), NULL) < 0)
        _exit(1);
    struct apus_sync_msg msg;
    if (apus_sync_recv(fd, &msg) != 1 || msg.type != APUS_SYNC_USERNS_DONE)
        _exit(1);
    if (dumpable && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        stage_fail(fd, "prctl(PR_SET_DUMPABLE, 0)");

    /*
     * Become root of the (new or joined) user namespace: our host ids are
     * usually unmapped there, and files we create would fail with EOVERFLOW.
     */
    if (in_userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
        stage_fail(fd, "setresuid(0) in the user namespace");

    int rest = cfg->clone_flags & ~CLONE_NEWUSER;
    if (rest && unshare(rest) < 0) {
        snprintf(what, sizeof(what), "unshare(%#x)", rest);
        stage_fail(fd, what);
    }
    if ((rest & CLONE_NEWTIME) && cfg->timens_offsets && cfg->timens_offsets[0])
        write_timens_offsets(fd, cfg->timens_offsets);

    /*
     * The init shares the sync socket: it must not speak before we have
     * reported its pid, or the parent would see its messages first.
     */
    int gate[2];
    if (pipe2(gate, O_CLOEXEC) < 0)
        stage_fail(fd, "pipe2()");
    pid_t init = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
    if (init < 0)
        stage_fail(fd, "clone(CLONE_PARENT)");
    if (init == 0) {
        close(gate[1]);
        char byte;
        ssize_t n;
        do {
            n = read(gate[0], &byte, 1);
        } while (n < 0 && errno == EINTR);
        close(gate[0]);
        apus_fault_around_off();
        return; /* the container init continues in Swift */
    }
    close(gate[0]);
    apus_sync_send(fd, APUS_SYNC_INIT_PID, init, NULL);
    close(gate[1]); /* EOF releases the init */
    _exit(0);
}

/*
 * The init cloned straight into its new namespaces (crun's way when no
 * user namespace is made or joined): one process less. The cgroup
 * namespace waits until the parent has put us in our cgroups, so that it
 * is rooted there. No PDEATHSIG: the init outlives `apus create`.
 */
static void direct_child(const struct apus_spawn_config *cfg)
{
    int fd = cfg->sync_fd;
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    apus_fault_around_child(1);
    close(cfg->parent_sync_fd);
    struct apus_sync_msg msg;
    if (apus_sync_recv(fd, &msg) != 1 || msg.type != APUS_SYNC_USERNS_DONE)
        _exit(1);
    if ((cfg->clone_flags & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0)
        stage_fail(fd, "unshare(CLONE_NEWCGROUP)");
}

pid_t apus_spawn(struct apus_spawn_config *cfg)
{
    cfg->parent_pid = getpid();
    if (cfg->direct) {
        pid_t init = (pid_t)syscall(SYS_clone, (cfg->clone_flags & ~CLONE_NEWCGROUP) | SIGCHLD, 0, 0, 0, 0);
        if (init == 0)
            direct_child(cfg);
        return init;
    }
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    stage1(cfg);
    return 0;
}

pid_t apus_userns_child(void)
{
    int ready[2];
    if (pipe2(ready, O_CLOEXEC) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        int err = errno;
        close(ready[0]);
        close(ready[1]);
        errno = err;
        return -1;
    }
    if (pid == 0) {
        apus_fault_around_child(0);
        close(ready[0]);
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        int err = unshare(CLONE_NEWUSER) < 0 ? errno : 0;
        if (write(ready[1], &err, sizeof(err)) != sizeof(err) || err)
            _exit(1);
        for (;;)
            pause();
    }
    close(ready[1]);
    int err = 0;
    ssize_t n;
    do {
        n = read(ready[0], &err, sizeof(err));
    } while (n < 0 && errno == EINTR);
    close(ready[0]);
    if (n != sizeof(err) || err) {
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
        errno = n == sizeof(err) ? err : EPROTO;
        return -1;
    }
    return pid;
}
