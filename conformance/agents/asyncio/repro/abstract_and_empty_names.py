# NAME-3: create_unix_server accepts a name with a leading NUL and binds a Linux abstract socket
# (no file, no permissions); os.mkfifo("") fails ENOENT rather than as an invalid name.
import asyncio, errno, os, sys
name = "\0npipe-repro-%d" % os.getpid()
async def main():
    s = await asyncio.start_unix_server(lambda r, w: None, name)
    listed = "@" + name[1:] in open("/proc/net/unix").read()
    s.close()
    return listed
abstract = asyncio.run(main())
try:
    os.mkfifo("", 0o600)
    empty = None
except OSError as e:
    empty = e.errno
ok = abstract and empty == errno.ENOENT
print(("REPRODUCED: " if ok else "NOT REPRODUCED: ") +
      "a leading NUL made an abstract socket: %s; mkfifo('') errno %s" % (abstract, errno.errorcode.get(empty)))
sys.exit(not ok)
