# CHAN-CONNECT-4: open_unix_connection to a listener whose queue is full "succeeds": asyncio takes
# the non-blocking connect's EAGAIN for EINPROGRESS, waits for writability, reads SO_ERROR 0 and
# hands back a stream at once instead of waiting for room in the queue.
import asyncio, socket, sys
l = socket.socket(socket.AF_UNIX)
l.bind("busy")
l.listen(0)  # never accepts: its queue fills
async def main():
    held = []
    for i in range(64):
        s = socket.socket(socket.AF_UNIX)
        s.setblocking(False)
        try:
            s.connect("busy")
            held.append(s)
        except BlockingIOError:
            s.close()
            break
    else:
        return "NOT REPRODUCED: the queue never filled"
    try:
        r, w = await asyncio.wait_for(asyncio.open_unix_connection("busy"), 2)
    except (OSError, asyncio.TimeoutError) as e:
        return "NOT REPRODUCED: %r" % e
    return "REPRODUCED: open_unix_connection to a full queue completed instead of waiting"
out = asyncio.run(main())
print(out)
sys.exit(not out.startswith("REPRODUCED"))
