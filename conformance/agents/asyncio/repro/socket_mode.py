# CHAN-LISTEN-1: loop.create_unix_server leaves the socket file at 0777 & ~umask.
import asyncio, os, stat, sys
os.umask(0)
async def main():
    s = await asyncio.start_unix_server(lambda r, w: None, "sock")
    mode = stat.S_IMODE(os.stat("sock").st_mode)
    s.close()
    return mode
mode = asyncio.run(main())
print("NOT REPRODUCED: 0600" if mode == 0o600 else "REPRODUCED: socket file mode %o under umask 0" % mode)
sys.exit(mode == 0o600)
