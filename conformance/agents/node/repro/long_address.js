// NAME-4: an address longer than sun_path (108 bytes on Linux) is cut to fit and bound.
const net = require('net'), fs = require('fs');
const name = 'a'.repeat(150);
const s = net.createServer();
s.on('error', (e) => { console.log(`NOT REPRODUCED: ${e.code}`); process.exit(1); });
s.listen(name, () => {
  const made = fs.readdirSync('.').filter((f) => f.startsWith('aaa'));
  console.log(`REPRODUCED: listen on a ${name.length}-byte address succeeded, file made: ${made[0].length} bytes`);
  s.close(() => process.exit(0));
});
