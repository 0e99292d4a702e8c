// NAME-3: 'x\0y' binds 'x'; a leading NUL makes a Linux abstract socket; connect('') is a TCP
// connect to 127.0.0.1. None of them is refused as an invalid name.
const net = require('net'), fs = require('fs');
const found = [];
const a = net.createServer().listen('x\0y', () => {
  if (fs.existsSync('x')) found.push("'x\\0y' bound as 'x'");
  const b = net.createServer().listen('\0npipe-repro-' + process.pid, () => {
    found.push('a leading NUL bound an abstract socket');
    const c = net.createConnection({ path: '' });
    c.on('error', (e) => {
      if (/127\.0\.0\.1|::1/.test(e.message)) found.push(`connect('') went to TCP (${e.message})`);
      const ok = found.length === 3;
      console.log((ok ? 'REPRODUCED: ' : 'NOT REPRODUCED: ') + found.join('; '));
      process.exit(ok ? 0 : 1);
    });
  });
});
