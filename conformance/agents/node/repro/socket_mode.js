// CHAN-LISTEN-1: net.Server.listen(path) leaves the socket file at 0777 & ~umask. Run in an empty directory.
const net = require('net'), fs = require('fs');
process.umask(0);
const s = net.createServer().listen('sock', () => {
  const mode = fs.statSync('sock').mode & 0o777;
  console.log(mode === 0o600 ? 'NOT REPRODUCED: 0600' : `REPRODUCED: socket file mode ${mode.toString(8)} under umask 0`);
  s.close(() => process.exit(mode === 0o600 ? 1 : 0));
});
