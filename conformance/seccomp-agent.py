#!/usr/bin/env python3
# A small seccomp agent for seccomp-notify.bats, speaking runc's protocol:
# it listens on SOCKET; each connection brings one message, the container
# process state as JSON with the notify fd in SCM_RIGHTS. Each message is
# appended to LOG as one JSON line. Every notified syscall is answered as
# the state's "metadata" says: "errno=N" (fail with errno N) or "continue"
# (let the kernel run it); each answer is logged as {"notified": nr}.
import array, fcntl, json, os, select, socket, struct, sys

SOCKET, LOG = sys.argv[1], sys.argv[2]
NOTIF_RECV = 0xC0502100   # _IOWR('!', 0, struct seccomp_notif), 80 bytes
NOTIF_SEND = 0xC0182101   # _IOWR('!', 1, struct seccomp_notif_resp), 24 bytes
FLAG_CONTINUE = 1

def log(obj):
    with open(LOG, "a") as f:
        f.write(json.dumps(obj) + "\n")

def answer(fd, metadata):
    buf = bytearray(80)
    try:
        fcntl.ioctl(fd, NOTIF_RECV, buf, True)
    except OSError:
        return  # the process went away
    notif_id, _pid, _flags, nr = struct.unpack_from("=QIIi", buf)
    if metadata.startswith("errno="):
        resp = struct.pack("=QqiI", notif_id, 0, -int(metadata[6:]), 0)
    else:
        resp = struct.pack("=QqiI", notif_id, 0, 0, FLAG_CONTINUE)
    try:
        fcntl.ioctl(fd, NOTIF_SEND, resp)
        log({"notified": nr})
    except OSError:
        pass

srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(SOCKET + ".tmp")
srv.listen(8)
os.rename(SOCKET + ".tmp", SOCKET)
listeners = {}  # notify fd -> metadata
while True:
    ready, _, _ = select.select([srv] + list(listeners), [], [])
    for r in ready:
        if r is srv:
            conn, _ = srv.accept()
            fds = array.array("i")
            msg, anc, _, _ = conn.recvmsg(65536, socket.CMSG_SPACE(fds.itemsize))
            conn.close()
            for level, kind, data in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
            state = json.loads(msg)
            state["receivedFds"] = len(fds)
            log(state)
            for fd in fds:
                listeners[fd] = state.get("metadata", "")
        else:
            # POLLHUP-like: nothing pending once the filter's processes are gone
            p = select.poll()
            p.register(r, select.POLLIN)
            ev = p.poll(0)
            if ev and ev[0][1] & (select.POLLHUP | select.POLLERR | select.POLLNVAL) and not ev[0][1] & select.POLLIN:
                os.close(r)
                del listeners[r]
            else:
                answer(r, listeners[r])
