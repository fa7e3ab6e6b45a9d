"""Metadata writes a hostile agent tries on each file named (escape_test.c).

Prints NAME:ok or NAME:ERRNO for each attempt, one line per file.
"""
import errno
import fcntl
import os
import struct
import sys

FS_IOC_SETFLAGS = 0x40086602
FS_IMMUTABLE_FL = 0x10
# VFS_CAP_REVISION_2, effective, CAP_SETUID permitted
CAPS = struct.pack("<IIIII", 0x02000001, 1 << 7, 0, 0, 0)


def setflags(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.ioctl(fd, FS_IOC_SETFLAGS, struct.pack("i", FS_IMMUTABLE_FL))
    finally:
        os.close(fd)


for f in sys.argv[1:]:
    tries = [
        ("chmod", lambda: os.chmod(f, 0o4777)),
        ("chown", lambda: os.chown(f, 65534, 65534)),
        ("setxattr", lambda: os.setxattr(f, "user.asb", b"x")),
        ("setcap", lambda: os.setxattr(f, "security.capability", CAPS)),
        ("utime", lambda: os.utime(f, (0, 0))),
        ("setflags", lambda: setflags(f)),
    ]
    out = []
    for name, fn in tries:
        try:
            fn()
            out.append(name + ":ok")
        except OSError as e:
            out.append(name + ":" + errno.errorcode.get(e.errno, str(e.errno)))
    print(f, " ".join(out))
