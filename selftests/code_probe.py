"""Code a hostile agent tries to run from each file named (escape_test.c).

For each PATH, one line each: "loaded PATH" or "refused PATH" (dlopen),
"mapped PATH" or "unmapped PATH ERRNO" (mmap PROT_EXEC of the file opened
afresh), "made code PATH" or "stays data PATH ERRNO" (mmap PROT_READ, then
mprotect PROT_EXEC). "not a file PATH" when PATH is no regular file (a
pipe is neither opened nor mapped). fd:N maps descriptor N as it is:
"mapped fd:N" or "unmapped fd:N ERRNO".
"""
import ctypes
import mmap
import os
import stat
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                      ctypes.c_int, ctypes.c_int, ctypes.c_long)
libc.mprotect.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
RX = mmap.PROT_READ | mmap.PROT_EXEC


def map_exec(fd, name):
    try:
        mmap.mmap(fd, 4096, flags=mmap.MAP_PRIVATE, prot=RX)
        print("mapped", name)
    except OSError as e:
        print("unmapped", name, e.errno)


for p in sys.argv[1:]:
    if p.startswith("fd:"):
        map_exec(int(p[3:]), p)
        continue
    if not stat.S_ISREG(os.stat(p).st_mode):
        print("not a file", p)
        continue
    try:
        ctypes.CDLL(p)
        print("loaded", p)
    except OSError:
        print("refused", p)
    fd = os.open(p, os.O_RDONLY)
    map_exec(fd, p)
    a = libc.mmap(None, 4096, mmap.PROT_READ, mmap.MAP_PRIVATE, fd, 0)
    if libc.mprotect(a, 4096, RX) == 0:
        print("made code", p)
    else:
        print("stays data", p, ctypes.get_errno())
    os.close(fd)
