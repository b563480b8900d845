/*
 * Syscalls with no glibc 2.36 wrapper that Swift could call: the new mount
 * API (mounts made and moved by fd, so nothing is re-resolved by path),
 * the runtime binary's write protection, and a few fd helpers.
 */
#define _GNU_SOURCE
#include "apus_shim.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif
#ifndef SYS_fsconfig
#define SYS_fsconfig 431
#endif
#ifndef SYS_fsmount
#define SYS_fsmount 432
#endif
#ifndef SYS_fspick
#define SYS_fspick 433
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_memfd_create
#define SYS_memfd_create 319
#endif

#define APUS_OPEN_TREE_CLONE 1
#define APUS_MOVE_MOUNT_F_EMPTY_PATH 0x04
#define APUS_MOVE_MOUNT_T_EMPTY_PATH 0x40
#define APUS_FSOPEN_CLOEXEC 1
#define APUS_FSMOUNT_CLOEXEC 1
#define APUS_FSCONFIG_SET_FLAG 0
#define APUS_FSCONFIG_SET_STRING 1
#define APUS_FSCONFIG_CMD_CREATE 6
#define APUS_FSCONFIG_CMD_RECONFIGURE 7
#define APUS_FSPICK_CLOEXEC 1
#define APUS_FSPICK_EMPTY_PATH 8
#define APUS_MOUNT_ATTR_RDONLY 0x1
#define APUS_MOUNT_ATTR_NOSUID 0x2
#define APUS_MOUNT_ATTR_NODEV 0x4
#define APUS_MFD_CLOEXEC 0x1U
#define APUS_MFD_ALLOW_SEALING 0x2U
#define APUS_MFD_EXEC 0x10U
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

struct apus_mount_attr {
    uint64_t attr_set;
    uint64_t attr_clr;
    uint64_t propagation;
    uint64_t userns_fd;
};

int apus_open_tree(int dirfd, const char *path, unsigned int flags)
{
    return (int)syscall(SYS_open_tree, dirfd, path, flags);
}

int apus_move_mount_fd(int from_fd, int to_fd)
{
    return (int)syscall(SYS_move_mount, from_fd, "", to_fd, "",
                        APUS_MOVE_MOUNT_F_EMPTY_PATH | APUS_MOVE_MOUNT_T_EMPTY_PATH);
}

int apus_mount_setattr(int fd, int recursive, uint64_t attr_set, uint64_t attr_clr, uint64_t propagation, int userns_fd)
{
    struct apus_mount_attr attr = {
        .attr_set = attr_set,
        .attr_clr = attr_clr,
        .propagation = propagation,
        .userns_fd = userns_fd >= 0 ? (uint64_t)userns_fd : 0,
    };
    unsigned int flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
    return (int)syscall(SYS_mount_setattr, fd, "", flags, &attr, sizeof(attr));
}

int apus_mount_setattr_fd(int fd, int recursive, uint64_t attr_set, uint64_t attr_clr)
{
    return apus_mount_setattr(fd, recursive, attr_set, attr_clr, 0, -1);
}

int apus_fsopen(const char *fstype)
{
    return (int)syscall(SYS_fsopen, fstype, APUS_FSOPEN_CLOEXEC);
}

int apus_fspick(int fd)
{
    return (int)syscall(SYS_fspick, fd, "", APUS_FSPICK_EMPTY_PATH | APUS_FSPICK_CLOEXEC);
}

int apus_fsconfig(int fs, const char *key, const char *value)
{
    if (value)
        return (int)syscall(SYS_fsconfig, fs, APUS_FSCONFIG_SET_STRING, key, value, 0);
    return (int)syscall(SYS_fsconfig, fs, APUS_FSCONFIG_SET_FLAG, key, NULL, 0);
}

int apus_fsmount_create(int fs, uint64_t attr_flags)
{
    if (syscall(SYS_fsconfig, fs, APUS_FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        return -1;
    return (int)syscall(SYS_fsmount, fs, APUS_FSMOUNT_CLOEXEC, attr_flags);
}

int apus_fs_reconfigure(int fs)
{
    return (int)syscall(SYS_fsconfig, fs, APUS_FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0);
}

int apus_fs_log(int fs, char *buf, size_t len)
{
    /* Each read returns one message ("e tmpfs: Bad value for 'size'"); keep the last error. */
    int found = 0;
    char msg[256];
    for (int i = 0; i < 16; i++) {
        ssize_t n = read(fs, msg, sizeof(msg) - 1);
        if (n <= 0)
            break;
        msg[n] = '\0';
        if (msg[0] == 'e' && len > 0) {
            snprintf(buf, len, "%s", n > 2 ? msg + 2 : msg);
            found = 1;
        }
    }
    return found;
}

int apus_fsmount_new(const char *fstype, const char *const *keys, const char *const *values, int count,
                     uint64_t attr_flags)
{
    int fs = apus_fsopen(fstype);
    if (fs < 0)
        return -1;
    for (int i = 0; i < count; i++) {
        if (apus_fsconfig(fs, keys[i], values[i]) < 0)
            goto fail;
    }
    int mnt = apus_fsmount_create(fs, attr_flags);
    if (mnt < 0)
        goto fail;
    close(fs);
    return mnt;
fail:;
    int err = errno;
    close(fs);
    errno = err;
    return -1;
}

int apus_syscall_missing(long nr)
{
    /* Invalid arguments everywhere: a present syscall fails with EINVAL,
     * EBADF or EFAULT before doing anything; only a missing one says ENOSYS. */
    return syscall(nr, -1L, 0L, 0L, 0L, 0L) < 0 && errno == ENOSYS;
}

int apus_exe_is_sealed(int procfd)
{
    int fd = openat(procfd, "self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct statvfs vfs;
    int sealed = 0;
    if (fstatvfs(fd, &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
        sealed = 1;
    int seals = fcntl(fd, F_GET_SEALS);
    if (seals > 0 && (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
        sealed = 1;
    close(fd);
    return sealed;
}

static int apus_exe_ro_clone(int procfd)
{
    int fd = apus_open_tree(procfd, "self/exe", APUS_OPEN_TREE_CLONE | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (apus_mount_setattr_fd(fd, 0, APUS_MOUNT_ATTR_RDONLY | APUS_MOUNT_ATTR_NODEV, 0) < 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

static int apus_exe_memfd_copy(int procfd);

int apus_exe_reexec_sealed(int procfd, char *const argv[], int force_memfd, const char **failed_call)
{
    int fd = force_memfd ? -1 : apus_exe_ro_clone(procfd);
    *failed_call = "open_tree(/proc/self/exe, OPEN_TREE_CLONE)";
    if (fd < 0) {
        fd = apus_exe_memfd_copy(procfd);
        *failed_call = "memfd_create + sendfile(/proc/self/exe)";
    }
    if (fd < 0)
        return -1;
    setenv(APUS_SEALED_MARKER, "1", 1);
    syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
    int err = errno;
    unsetenv(APUS_SEALED_MARKER);
    close(fd);
    *failed_call = "execveat(sealed apus)";
    errno = err;
    return -1;
}

int apus_procfs_verify(int fd)
{
    struct statfs fs;
    struct stat st;
    if (fstatfs(fd, &fs) < 0 || fstat(fd, &st) < 0)
        return -1;
    return fs.f_type == PROC_SUPER_MAGIC && st.st_ino == 1 /* PROC_ROOT_INO */;
}

int apus_procfs_host(void)
{
    int fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int verified = apus_procfs_verify(fd);
    if (verified != 1) {
        int err = verified < 0 ? errno : EXDEV;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

/* The subcommand of argv: the first argument that is neither a global
 * flag nor the value of one; NULL if none. */
static const char *apus_subcommand(int argc, char **argv)
{
    /* runc's global flags that take a value ("-x" and "--x" alike) */
    static const char *const valued[] = {"log", "log-format", "root", "criu", "rootless"};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || !strcmp(a, "-"))
            return a;
        if (!strcmp(a, "--"))
            return i + 1 < argc ? argv[i + 1] : NULL;
        const char *name = a + (a[1] == '-' ? 2 : 1);
        if (strchr(name, '='))
            continue;
        for (size_t k = 0; k < sizeof(valued) / sizeof(valued[0]); k++) {
            if (!strcmp(name, valued[k])) {
                i++;
                break;
            }
        }
    }
    return NULL;
}

int apus_names_sealed_command(int argc, char **argv)
{
    const char *command = apus_subcommand(argc, argv);
    return command && (!strcmp(command, "create") || !strcmp(command, "run") || !strcmp(command, "exec"));
}

void apus_stdio_ensure(void)
{
    int saved = errno;
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        /* the lowest free number: this one */
        int null = open("/dev/null", O_RDWR);
        if (null >= 0 && null != fd)
            close(null);
    }
    errno = saved;
}

/* Stage 0 of `create`, `run` and `exec` (CVE-2019-5736, see
 * Process/SealedExecutable.swift): when the command line names one of them,
 * the unprotected image re-executes itself from the protected copy before
 * the Swift runtime starts, so that start is paid once (`run`: ~0.3 ms).
 * A miss (a command line apus_subcommand reads otherwise than the argument
 * parser), or any failure here, leaves it to SealedExecutable.ensure(),
 * which does the same and reports errors. The re-executed image clears the
 * marker here, whatever its command. Called only by the `apus` executable's
 * constructor (Sources/CApusEntry/entry.c). */
void apus_seal_early(int argc, char **argv)
{
    int again = getenv(APUS_SEALED_MARKER) != NULL;
    if (!again && !apus_names_sealed_command(argc, argv))
        return;
    int saved = errno;
    int procfd = apus_procfs_host();
    int sealed = procfd >= 0 ? apus_exe_is_sealed(procfd) : -1;
    if (again && sealed == 1) {
        unsetenv(APUS_SEALED_MARKER); /* the re-executed image: done */
    } else if (!again && sealed == 0) {
        const char *method = getenv("APUS_EXE_SEAL");
        const char *failed;
        apus_exe_reexec_sealed(procfd, argv, method && !strcmp(method, "memfd"), &failed);
    }
    if (procfd >= 0)
        close(procfd);
    errno = saved;
}

static int apus_exe_memfd_copy(int procfd)
{
    int src = openat(procfd, "self/exe", O_RDONLY | O_CLOEXEC);
    if (src < 0)
        return -1;
    int fd = (int)syscall(SYS_memfd_create, "apus", APUS_MFD_CLOEXEC | APUS_MFD_ALLOW_SEALING | APUS_MFD_EXEC);
    if (fd < 0 && errno == EINVAL) /* kernels before 6.3 have no MFD_EXEC */
        fd = (int)syscall(SYS_memfd_create, "apus", APUS_MFD_CLOEXEC | APUS_MFD_ALLOW_SEALING);
    struct stat st;
    if (fd < 0 || fstat(src, &st) < 0)
        goto fail;
    for (off_t done = 0; done < st.st_size;) {
        ssize_t n = sendfile(fd, src, NULL, (size_t)(st.st_size - done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto fail;
        done += n;
    }
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
        goto fail;
    close(src);
    return fd;
fail:;
    int err = errno;
    close(src);
    if (fd >= 0)
        close(fd);
    errno = err;
    return -1;
}

int apus_probe_last_cap(void)
{
    /* PR_CAPBSET_READ fails with EINVAL past the last capability. */
    int lo = 0, hi = 255;
    if (prctl(PR_CAPBSET_READ, 0, 0, 0, 0) < 0)
        return -1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (prctl(PR_CAPBSET_READ, (unsigned long)mid, 0, 0, 0) >= 0)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int close_from_to(unsigned int lo, unsigned int hi)
{
    if (lo > hi)
        return 0;
    if (syscall(SYS_close_range, lo, hi, 0) == 0)
        return 0;
    if (errno != ENOSYS && errno != EPERM)
        return -1;
    /* Before close_range (or filtered): every fd up to the open-file limit. */
    long max = sysconf(_SC_OPEN_MAX);
    unsigned int top = hi;
    if (max > 0 && (unsigned long)max - 1 < top)
        top = (unsigned int)(max - 1);
    for (unsigned int fd = lo; fd <= top && fd >= lo; fd++)
        close((int)fd);
    return 0;
}

int apus_close_fds_except(unsigned int first, const int *keep, int nkeep)
{
    int sorted[256];
    int n = 0;
    for (int i = 0; i < nkeep; i++) {
        if (keep[i] < (int)first)
            continue;
        if (n == 256) {
            errno = E2BIG;
            return -1;
        }
        sorted[n++] = keep[i];
    }
    qsort(sorted, (size_t)n, sizeof(int), cmp_int);
    unsigned int from = first;
    for (int i = 0; i < n; i++) {
        unsigned int k = (unsigned int)sorted[i];
        if (k > from && close_from_to(from, k - 1) < 0)
            return -1;
        if (k >= from)
            from = k + 1;
    }
    return close_from_to(from, ~0U);
}

int apus_clear_onlcr(int fd)
{
    struct termios t;
    if (tcgetattr(fd, &t) < 0)
        return -1;
    t.c_oflag &= ~(tcflag_t)ONLCR;
    return tcsetattr(fd, TCSANOW, &t);
}

long apus_fs_magic(int fd)
{
    struct statfs fs;
    if (fstatfs(fd, &fs) < 0)
        return -1;
    return (long)fs.f_type;
}

int apus_rename_noreplace(const char *from, const char *to)
{
    return (int)syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, 1 /* RENAME_NOREPLACE */);
}
