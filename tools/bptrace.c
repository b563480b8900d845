// bptrace OUT EXE FUNCS cmd args...: run cmd and all its descendants under ptrace with a
// one-shot breakpoint (int3) on each address of FUNCS (hex, one a line) in every process
// that runs EXE; append each address a process reached to OUT (once per process).
// A process that execs anything else is let go (a container's program), so
// this returns once every apus process of the tree is gone. For
// tools/symbol-order.sh; not part of apus.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

static dev_t edev;
static ino_t eino;
static uint64_t *addr;
static size_t naddr;
static FILE *out;

static int runs_exe(pid_t pid) {
	char p[64];
	struct stat st;
	snprintf(p, sizeof p, "/proc/%d/exe", pid);
	return stat(p, &st) == 0 && st.st_ino == eino && st.st_dev == edev;
}

static int cmp(const void *a, const void *b) {
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

// The original byte at each address (the same in every process: one image).
static uint8_t *orig;

static int memfd(pid_t pid) {
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/mem", pid);
	return open(p, O_RDWR | O_CLOEXEC);
}

int main(int argc, char **argv) {
	if (argc < 5) return 2;
	out = fopen(argv[1], "a");
	struct stat st;
	if (stat(argv[2], &st)) { perror(argv[2]); return 2; }
	edev = st.st_dev; eino = st.st_ino;
	FILE *f = fopen(argv[3], "r");
	size_t cap = 1 << 16;
	addr = malloc(cap * 8);
	char line[64];
	while (fgets(line, sizeof line, f)) {
		if (naddr == cap) addr = realloc(addr, (cap *= 2) * 8);
		addr[naddr++] = strtoull(line, 0, 16);
	}
	qsort(addr, naddr, 8, cmp);
	orig = calloc(naddr, 1);
	pid_t child = fork();
	if (child == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		execvp(argv[4], argv + 4);
		_exit(127);
	}
	int status, live = 1, rc = 0, first = 1;
	waitpid(child, &status, 0);
	ptrace(PTRACE_SETOPTIONS, child, 0,
	       PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL);
	ptrace(PTRACE_CONT, child, 0, 0);
	uint8_t *saved = NULL;
	while (live > 0) {
		pid_t pid = waitpid(-1, &status, __WALL);
		if (pid < 0) { if (errno == EINTR) continue; break; }
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			live--;
			if (pid == child) rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
			continue;
		}
		if (!WIFSTOPPED(status)) continue;
		int sig = WSTOPSIG(status), ev = status >> 16, deliver = 0;
		if (sig == SIGTRAP && ev) {
			if (ev == PTRACE_EVENT_FORK || ev == PTRACE_EVENT_VFORK || ev == PTRACE_EVENT_CLONE) live++;
			else if (ev == PTRACE_EVENT_EXEC && !runs_exe(pid)) {
				ptrace(PTRACE_DETACH, pid, 0, 0);
				live--;
				continue;
			} else if (ev == PTRACE_EVENT_EXEC) {
				if (first) { // keep the clean bytes
					int fd = memfd(pid);
					for (size_t i = 0; i < naddr; i++) pread(fd, &orig[i], 1, addr[i]);
					close(fd);
					saved = malloc(naddr); memcpy(saved, orig, naddr);
					first = 0;
				}
				int fd = memfd(pid);
				uint8_t int3 = 0xcc;
				for (size_t i = 0; i < naddr; i++) pwrite(fd, &int3, 1, addr[i]);
				close(fd);
			}
		} else if (sig == SIGTRAP && saved) {
			struct user_regs_struct r;
			ptrace(PTRACE_GETREGS, pid, 0, &r);
			uint64_t a = r.rip - 1;
			uint64_t *hit = bsearch(&a, addr, naddr, 8, cmp);
			if (hit) {
				int fd = memfd(pid);
				pwrite(fd, &saved[hit - addr], 1, a);
				close(fd);
				r.rip = a;
				ptrace(PTRACE_SETREGS, pid, 0, &r);
				fprintf(out, "%llx\n", (unsigned long long)a);
			} else deliver = sig;
		} else if (sig == SIGSTOP && ev == 0) {
			deliver = 0; // a new tracee's first stop
		} else if (ev == PTRACE_EVENT_STOP) {
			deliver = 0;
		} else {
			deliver = sig;
		}
		ptrace(PTRACE_CONT, pid, 0, deliver);
	}
	fclose(out);
	return rc;
}
