# CHAN-LISTEN-2: create_unix_server removes any socket file at its path before binding, a live
# listener's too: the second server takes the address over and the first stops getting clients.
import asyncio, sys
async def main():
    first = await asyncio.start_unix_server(lambda r, w: None, "sock")
    try:
        second = await asyncio.start_unix_server(lambda r, w: None, "sock")
    except OSError as e:
        return "NOT REPRODUCED: %s" % e
    second.close()
    first.close()
    return "REPRODUCED: a second create_unix_server on a live listener's address succeeded"
out = asyncio.run(main())
print(out)
sys.exit(not out.startswith("REPRODUCED"))
