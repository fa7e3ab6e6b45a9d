"""A small 'agent' that tries what agents do; run confined by scripts/demo.

Prints one row per attempt: what it tried, on what, and what happened.
"""
import ctypes
import errno
import mmap
import os
import signal
import socket
import subprocess
import sys

WS = sys.argv[1]
KEY = sys.argv[2]
AGENTD = int(sys.argv[3])
rows = []


class Killed(Exception):
    pass


def attempt(action, obj, fn):
    try:
        fn()
        rows.append((action, obj, "allowed"))
    except Killed:
        rows.append((action, obj, "DENIED (killed before its first instruction)"))
    except OSError as e:
        name = errno.errorcode.get(e.errno, str(e.errno))
        if e.strerror and e.strerror.startswith("stopped"):
            name += ", " + e.strerror
        denied = e.errno in (errno.EACCES, errno.EPERM, errno.EROFS,
                             errno.ESRCH, errno.EAGAIN)
        rows.append((action, obj, ("DENIED (%s)" if denied else "failed (%s)") % name))


def read(path):
    with open(path) as f:
        f.read()


def write(path):
    with open(path, "w") as f:
        f.write("agent was here\n")


def run(argv):
    p = subprocess.run(argv, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    if p.returncode == -9:
        raise Killed()
    p.check_returncode()


def connect(host, port):
    with socket.create_connection((host, port), timeout=2):
        pass


def connect_unix(path):
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(path)


def unshare(flags):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(flags) < 0:
        raise OSError(ctypes.get_errno(), "unshare")


def fork_bomb():
    """Fork until the kernel says no; the children wait to be killed."""
    kids = []
    try:
        while len(kids) < 5000:
            pid = os.fork()
            if pid == 0:
                signal.pause()
                os._exit(0)
            kids.append(pid)
    except OSError as e:
        raise OSError(e.errno, "stopped after %d" % len(kids))
    finally:
        for pid in kids:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def map_code(path):
    """What a hand-made loader does: map the file's bytes executable."""
    with open(path, "rb") as f:
        mmap.mmap(f.fileno(), 4096, flags=mmap.MAP_PRIVATE,
                  prot=mmap.PROT_READ | mmap.PROT_EXEC)


def raw_socket():
    socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close()


attempt("read", WS + "/notes.txt", lambda: read(WS + "/notes.txt"))
attempt("write", WS + "/result.txt", lambda: write(WS + "/result.txt"))
attempt("read", KEY, lambda: read(KEY))
attempt("read", "/etc/shadow", lambda: read("/etc/shadow"))
attempt("write", "/etc/cron.d/agent", lambda: write("/etc/cron.d/agent"))
attempt("chmod", "/etc/passwd", lambda: os.chmod("/etc/passwd", 0o666))
attempt("exec", "/usr/bin/id", lambda: run(["/usr/bin/id"]))
attempt("exec", WS + "/downloaded-tool", lambda: run([WS + "/downloaded-tool"]))
attempt("exec", "ld.so " + WS + "/downloaded-tool",
        lambda: run(["/lib64/ld-linux-x86-64.so.2", WS + "/downloaded-tool"]))
attempt("mmap", "PROT_EXEC " + WS + "/plugin.so",
        lambda: map_code(WS + "/plugin.so"))
attempt("connect", "127.0.0.1:8000", lambda: connect("127.0.0.1", 8000))
attempt("connect", "127.0.0.1:9000", lambda: connect("127.0.0.1", 9000))
attempt("connect", "/run/asb-demo.sock", lambda: connect_unix("/run/asb-demo.sock"))
attempt("socket", "raw icmp", raw_socket)
attempt("signal", "agentd (pid %d)" % AGENTD, lambda: os.kill(AGENTD, signal.SIGSTOP))
attempt("unshare", "a network namespace", lambda: unshare(0x40000000))
attempt("fork", "5000 processes (limits.pids = 1024)", fork_bomb)

for action, obj, result in rows:
    print("%-8s %-44s %s" % (action, obj, result))
