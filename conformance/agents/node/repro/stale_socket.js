// CHAN-LISTEN-3: listen() over a stale socket file (nobody listening) fails EADDRINUSE.
const net = require('net'), { spawnSync } = require('child_process');
// A stale socket file: a child listens, then dies by SIGKILL, leaving it behind.
spawnSync(process.execPath, ['-e', "require('net').createServer().listen('sock', () => process.kill(process.pid, 'SIGKILL'))"]);
const s = net.createServer();
s.on('error', (e) => { console.log(`REPRODUCED: listen over a stale socket file: ${e.code}`); process.exit(0); });
s.listen('sock', () => { console.log('NOT REPRODUCED: the stale file was replaced'); s.close(); process.exit(1); });
