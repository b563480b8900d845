/* bpf(2) for cgroup v2 device programs: glibc has no wrapper, and
 * union bpf_attr is easier to fill in C than from Swift. The program
 * itself (the instructions and which rules they encode) is built in
 * Swift (Cgroups/DeviceProgram.swift); these only pass it to the kernel. */
#define _GNU_SOURCE
#include "apus_bpf.h"

#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int bpf(int cmd, union bpf_attr *attr)
{
    return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

int apus_bpf_load_device_program(const uint64_t *insns, uint32_t count, const char *name, const char *license,
                                 char *log, uint32_t log_size)
{
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.expected_attach_type = BPF_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)insns;
    attr.insn_cnt = count;
    attr.license = (uint64_t)(uintptr_t)license;
    strncpy(attr.prog_name, name, sizeof(attr.prog_name) - 1);
    if (log != NULL && log_size > 0) {
        attr.log_level = 1;
        attr.log_buf = (uint64_t)(uintptr_t)log;
        attr.log_size = log_size;
    }
    return bpf(BPF_PROG_LOAD, &attr);
}

/* BPF_PROG_ATTACH or BPF_PROG_DETACH of a device program on a cgroup. */
static int attach_cmd(int cmd, int cgroup_fd, int prog_fd, uint32_t flags)
{
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.target_fd = (uint32_t)cgroup_fd;
    attr.attach_bpf_fd = (uint32_t)prog_fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = flags;
    return bpf(cmd, &attr);
}

int apus_bpf_attach_device_program(int cgroup_fd, int prog_fd)
{
    return attach_cmd(BPF_PROG_ATTACH, cgroup_fd, prog_fd, BPF_F_ALLOW_MULTI);
}

int apus_bpf_detach_device_program(int cgroup_fd, int prog_fd)
{
    return attach_cmd(BPF_PROG_DETACH, cgroup_fd, prog_fd, 0);
}

int apus_bpf_query_device_programs(int cgroup_fd, uint32_t *ids, uint32_t *count)
{
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.query.target_fd = (uint32_t)cgroup_fd;
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
    attr.query.prog_cnt = *count;
    int rc = bpf(BPF_PROG_QUERY, &attr);
    *count = attr.query.prog_cnt;
    return rc;
}

int apus_bpf_program_fd(uint32_t id)
{
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_id = id;
    attr.open_flags = 0;
    return bpf(BPF_PROG_GET_FD_BY_ID, &attr);
}

int apus_bpf_program_name(int prog_fd, char name[16])
{
    struct bpf_prog_info info;
    union bpf_attr attr;
    memset(&info, 0, sizeof(info));
    memset(&attr, 0, sizeof(attr));
    attr.info.bpf_fd = (uint32_t)prog_fd;
    attr.info.info_len = sizeof(info);
    attr.info.info = (uint64_t)(uintptr_t)&info;
    if (bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) < 0)
        return -1;
    memcpy(name, info.name, 16);
    name[15] = 0;
    return 0;
}
