# The broker's EXEC request spoken by hand, with the stdio fds an agent
# chooses (selftests/broker_test.c). Prints the reply's status, then exits
# at once, leaving the program to the broker.
#   broker_probe.py self PROG ARGS...   stdin: the request's own connection
#   broker_probe.py opath:DEV PROG ...  stdin: an O_PATH fd of DEV
import array, os, socket, struct, sys

mode, argv = sys.argv[1], sys.argv[2:]
env = ["TERM=dumb"]
payload = b"".join(a.encode() + b"\0" for a in argv + env)
req = struct.pack("<IHH64sIIII", 0x52425341, 1, 2, b"", len(argv), len(env),
                  len(payload), 0) + payload
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(os.environ["ASB_BROKER_SOCKET"])
if mode == "self":
    fd0 = s.fileno()
else:
    fd0 = os.open(mode.split(":", 1)[1], os.O_PATH)
s.sendmsg([req], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                   array.array("i", [fd0, 1, 2]))])
rep = s.recv(64)
print("status", struct.unpack("<Ii", rep[:8])[1], flush=True)
os._exit(0)
