// CHAN-CONNECT-4: a connect to a listener whose queue is full fails EAGAIN at once instead of
// waiting (libuv connects AF_UNIX sockets non-blocking and reports EAGAIN as the error).
const net = require('net'), { spawn } = require('child_process');
// The listener: a child whose event loop is blocked, so it never accepts and its queue fills.
const child = spawn(process.execPath, ['-e', `require('net').createServer().listen({ path: 'busy', backlog: 1 }, () => {
  process.stdout.write('up\\n'); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20000); })`]);
const done = (msg, rc) => { console.log(msg); child.kill('SIGKILL'); process.exit(rc); };
child.stdout.once('data', () => {
  const next = (i) => {
    const c = net.createConnection({ path: 'busy' });
    c.on('connect', () => (i < 64 ? next(i + 1) : done('NOT REPRODUCED: 64 connects completed', 1)));
    c.on('error', (e) => (e.code === 'EAGAIN'
      ? done(`REPRODUCED: connect #${i + 1} to a full queue failed ${e.code} at once`, 0)
      : done(`NOT REPRODUCED: ${e.code}`, 1)));
  };
  next(0);
});
