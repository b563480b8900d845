/*
 * Lean page faults for apus's own image (issue #21, `run`'s peak RSS).
 *
 * A static apus maps 7 MB of code and 2 MB of metadata and data from its
 * file. On a read fault in a file mapping the kernel maps not one page but
 * every cached page around it ("fault-around": a 64 KB window, and on 6.18
 * whole large folios of the page cache), and every one counts in RSS. The
 * functions the usual commands run are linked together (tools/apus.order),
 * where fault-around is right: all of it is used. Everything else is touched
 * sparsely (the Swift stdlib's one 1.6 MB text section, the metadata, cold
 * code), and there fault-around made most of the RSS: `run` 4.4 MB, of which
 * it used 2.2.
 *
 * The kernel skips fault-around in a mapping registered with a userfaultfd
 * for write-protect tracking (should_fault_around / uffd_disable_fault_around).
 * In asynchronous mode (UFFD_FEATURE_WP_ASYNC, Linux 6.7) a write-protect
 * fault is resolved by the kernel itself, with no handler; and since nothing
 * here ever write-protects a page, none occurs: the registration changes
 * nothing but fault-around. Asynchronous WP-only registration is allowed on
 * any mapping, file-backed included, and UFFD_USER_MODE_ONLY needs no
 * privilege. Where any of it is missing (older kernel, no userfaultfd)
 * nothing is done and apus runs as before; APUS_FAULT_AROUND=on in the
 * environment leaves the kernel's default too (to measure the difference:
 * conformance/memory.bats).
 *
 * The descriptor must stay open while the registration should last (closing
 * it unregisters) and must never reach another process: a userfaultfd in a
 * container would operate on the memory of the apus that made it. It is
 * close-on-exec, never one of 0-2 (which children get by dup2: hooks' stdin,
 * CRIU's inherited stdio), and every child apus forks drops it at once
 * (apus_fault_around_child). A fork does not carry the registration over
 * (no UFFD_FEATURE_EVENT_FORK), so the container init and the exec'd process
 * arm their own, which their execve closes. Under a seccomp filter nothing
 * is tried: a filter may kill on userfaultfd(2).
 */
#define _GNU_SOURCE
#include "apus_shim.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif

/* The ends of the linked-together hot functions (tools/apus.order puts
 * them first and last). Defined only in the apus executable (CApusEntry):
 * elsewhere (tests, fuzzer) every mapping is registered. */
extern int apus_hot_text_begin(void) __attribute__((weak));
extern int apus_hot_text_end(void) __attribute__((weak));

static int lean_fd = -1;

#define PAGE_DOWN(a) ((uintptr_t)(a) & ~(uintptr_t)4095)
#define PAGE_UP(a) (((uintptr_t)(a) + 4095) & ~(uintptr_t)4095)

static int register_range(int fd, uintptr_t lo, uintptr_t hi)
{
    lo = PAGE_DOWN(lo);
    hi = PAGE_UP(hi);
    if (hi <= lo)
        return 0;
    struct uffdio_register r = {.range = {.start = lo, .len = hi - lo}, .mode = UFFDIO_REGISTER_MODE_WP};
    return ioctl(fd, UFFDIO_REGISTER, &r) == 0;
}

/* Registers the read-only loaded segments of the executable (code and
 * metadata), leaving out the pages that hold only hot functions. The
 * writable ones keep fault-around: most of what is touched there is written,
 * a private copy either way, and registering them cost `run` 30 faults
 * (~0.1 ms) for 56 KB. */
static int register_image(int fd)
{
    const Elf64_Phdr *ph = (const Elf64_Phdr *)getauxval(AT_PHDR);
    unsigned long count = getauxval(AT_PHNUM);
    if (!ph || getauxval(AT_PHENT) != sizeof(Elf64_Phdr))
        return 0;
    /* apus is static and not position-independent (bias 0); the test
     * executables that link this are PIE */
    uintptr_t bias = 0;
    for (unsigned long i = 0; i < count; i++) {
        if (ph[i].p_type == PT_PHDR)
            bias = (uintptr_t)ph - ph[i].p_vaddr;
    }
    uintptr_t hot_lo = 0, hot_hi = 0;
    if (apus_hot_text_begin && apus_hot_text_end) {
        hot_lo = PAGE_UP(apus_hot_text_begin);
        hot_hi = PAGE_DOWN(apus_hot_text_end);
    }
    int any = 0;
    for (unsigned long i = 0; i < count; i++) {
        if (ph[i].p_type != PT_LOAD || ph[i].p_filesz == 0 || (ph[i].p_flags & PF_W))
            continue;
        uintptr_t lo = bias + ph[i].p_vaddr, hi = lo + ph[i].p_filesz;
        if (hot_lo < hot_hi && lo <= hot_lo && hot_hi <= hi) {
            any |= register_range(fd, lo, hot_lo);
            any |= register_range(fd, hot_hi, hi);
        } else {
            any |= register_range(fd, lo, hi);
        }
    }
    return any;
}

void apus_fault_around_off(void)
{
    if (lean_fd >= 0)
        return;
    const char *keep = getenv("APUS_FAULT_AROUND");
    if (keep && !strcmp(keep, "on"))
        return;
    int saved = errno;
    /* Under a seccomp filter, userfaultfd(2) may kill (systemd's
     * SystemCallFilter= does by default), not only fail: not tried there. */
    if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 0) {
        errno = saved;
        return;
    }
    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
    if (fd >= 0 && fd <= 2) {
        /* never stdio, even where a caller's closed one was not reopened */
        int high = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        close(fd);
        fd = high;
    }
    if (fd >= 0) {
        struct uffdio_api api = {.api = UFFD_API, .features = UFFD_FEATURE_WP_ASYNC};
        if (ioctl(fd, UFFDIO_API, &api) == 0 && register_image(fd))
            lean_fd = fd;
        else
            close(fd);
    }
    errno = saved;
}

void apus_fault_around_end(void)
{
    if (lean_fd < 0)
        return;
    int saved = errno;
    close(lean_fd);
    lean_fd = -1;
    errno = saved;
}

int apus_fault_around_fd(void)
{
    return lean_fd;
}

void apus_fault_around_child(int rearm)
{
    apus_fault_around_end();
    if (rearm)
        apus_fault_around_off();
}
