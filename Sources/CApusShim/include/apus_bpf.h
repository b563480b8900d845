/* bpf(2) for cgroup v2 device programs (bpf.c). */
#ifndef APUS_BPF_H
#define APUS_BPF_H

#include <stdint.h>

/* BPF_PROG_LOAD of a BPF_PROG_TYPE_CGROUP_DEVICE program of `count`
 * 8-byte instructions; the verifier's log goes to `log` when given.
 * The program's fd, or -1 with errno. */
int apus_bpf_load_device_program(const uint64_t *insns, uint32_t count, const char *name, const char *license,
                                 char *log, uint32_t log_size);
/* BPF_PROG_ATTACH (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI) / BPF_PROG_DETACH. */
int apus_bpf_attach_device_program(int cgroup_fd, int prog_fd);
int apus_bpf_detach_device_program(int cgroup_fd, int prog_fd);
/* BPF_PROG_QUERY: ids of the device programs attached to the cgroup itself;
 * *count is the room in ids on entry, the number attached on return. */
int apus_bpf_query_device_programs(int cgroup_fd, uint32_t *ids, uint32_t *count);
/* BPF_PROG_GET_FD_BY_ID, and the program's name (BPF_OBJ_GET_INFO_BY_FD). */
int apus_bpf_program_fd(uint32_t id);
int apus_bpf_program_name(int prog_fd, char name[16]);

#endif
