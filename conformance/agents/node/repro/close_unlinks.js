// CHAN-LISTEN-5: server.close() unlinks its path even when another file has replaced the socket.
const net = require('net'), fs = require('fs');
const s = net.createServer().listen('sock', () => {
  fs.unlinkSync('sock');
  fs.writeFileSync('sock', "someone else's");
  s.close(() => {
    const gone = !fs.existsSync('sock');
    console.log(gone ? "REPRODUCED: close() removed a regular file that replaced its socket" : 'NOT REPRODUCED: the file survived');
    process.exit(gone ? 0 : 1);
  });
});
