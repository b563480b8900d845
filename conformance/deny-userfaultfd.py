#!/usr/bin/env python3
# deny-userfaultfd.py ACTION CMD...: CMD under a seccomp filter on which
# userfaultfd(2) fails with ACTION (EPERM, ENOSYS) or, with KILL, kills the
# process, as a calling engine's profile or systemd's SystemCallFilter=
# would (conformance/memory.bats; x86_64 and aarch64 syscall numbers).
import ctypes
import errno
import os
import platform
import struct
import sys

nr = {"x86_64": 323, "aarch64": 282}[platform.machine()]
action = sys.argv[1]
ret = 0x80000000 if action == "KILL" else 0x00050000 | getattr(errno, action)  # KILL_PROCESS / ERRNO
prog = b"".join(struct.pack("HBBI", *i) for i in [
    (0x20, 0, 0, 0),            # ld [nr]
    (0x15, 0, 1, nr),           # jeq #userfaultfd
    (0x06, 0, 0, ret),          # ret ACTION
    (0x06, 0, 0, 0x7fff0000)])  # ret ALLOW
buf = ctypes.create_string_buffer(prog)


class Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


fp = Fprog(4, ctypes.addressof(buf))
libc = ctypes.CDLL(None, use_errno=True)
# PR_SET_NO_NEW_PRIVS, then PR_SET_SECCOMP(SECCOMP_MODE_FILTER)
if libc.prctl(38, 1, 0, 0, 0) or libc.prctl(22, 2, ctypes.byref(fp), 0, 0):
    sys.exit("seccomp: " + os.strerror(ctypes.get_errno()))
os.execv(sys.argv[2], sys.argv[2:])
