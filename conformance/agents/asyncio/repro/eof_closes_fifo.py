# FIFO-EOF-3: connect_read_pipe's transport closes the FIFO at EOF; a writer that comes later
# finds no reader (a non-blocking open fails ENXIO), so the reader never sees its bytes.
import asyncio, errno, os, sys
os.mkfifo("f", 0o600)
async def main():
    loop = asyncio.get_running_loop()
    fd = os.open("f", os.O_RDONLY | os.O_NONBLOCK)
    w = os.open("f", os.O_WRONLY)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", 0))
    os.write(w, b"first")
    os.close(w)
    first = await reader.read()  # until EOF
    await asyncio.sleep(0.05)
    try:
        os.close(os.open("f", os.O_WRONLY | os.O_NONBLOCK))
        return "NOT REPRODUCED: a reader is still there after EOF (read %r)" % first
    except OSError as e:
        if e.errno != errno.ENXIO:
            raise
        return "REPRODUCED: after EOF (read %r) the FIFO has no reader: a new writer gets ENXIO" % first
out = asyncio.run(main())
print(out)
sys.exit(not out.startswith("REPRODUCED"))
