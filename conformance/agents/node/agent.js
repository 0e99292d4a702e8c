#!/usr/bin/env node
// npipe agent for Node.js: spec/driver-protocol.md, written from that page and spec/npipe.md.
// Only Node's own API: `fs` (open, lstat, fstat, unlink) on FIFOs, `net` on AF_UNIX sockets,
// `crypto` for the HMAC handshake of multiprocessing.connection (written here: Node has none).
// What Node cannot do is answered `unsupported` (README.md lists each case and why).
'use strict';

const fs = require('fs');
const net = require('net');
const crypto = require('crypto');

const C = fs.constants;
const OPS = ['hello', 'bye', 'create', 'open', 'read', 'write', 'remove', 'release', 'close',
  'listen', 'accept', 'connect', 'send', 'recv'];
const HANDSHAKE_MS = 10000;  // CHAN-AUTH-8's default
const DIGESTS = { md5: 'md5', sha256: 'sha256', sha384: 'sha384', sha3_256: 'sha3-256', sha3_384: 'sha3-384' };

class Fail extends Error {
  constructor(error, message, native) { super(message); this.error = error; this.native = native; }
}

const ERRNO = {
  ENOENT: 'not_found', ENOTDIR: 'not_found', ECONNREFUSED: 'not_found', EEXIST: 'already_exists',
  EADDRINUSE: 'already_exists', EAGAIN: 'would_block', ENXIO: 'would_block', EPIPE: 'broken_pipe',
  ECONNRESET: 'broken_pipe', EACCES: 'permission_denied', EPERM: 'permission_denied',
  ENAMETOOLONG: 'invalid_name', ELOOP: 'not_a_pipe', EISDIR: 'not_a_pipe', ENOTSOCK: 'not_a_pipe',
  ETIMEDOUT: 'timeout', ERR_INVALID_ARG_VALUE: 'invalid_name', ERR_INVALID_ARG_TYPE: 'invalid_name',
};
function osFail(e, what) {
  return new Fail(ERRNO[e.code] || 'io_error', `${what}: ${e.message}`, e.code);
}

// -- command fields -----------------------------------------------------------------------------
function field(cmd, key, kind, required) {
  if (!(key in cmd)) {
    if (required) throw new Fail('protocol_error', `missing field '${key}'`);
    return undefined;
  }
  const v = cmd[key];
  const ok = kind === 'int' ? Number.isInteger(v) : kind === 'object' ? v !== null && typeof v === 'object' && !Array.isArray(v) : typeof v === kind;
  if (!ok) throw new Fail('protocol_error', `field '${key}' must be ${kind}`);
  return v;
}
function dirOf(cmd) {
  const d = field(cmd, 'dir', 'string', true);
  if (d !== 'r' && d !== 'w') throw new Fail('protocol_error', "field 'dir' must be 'r' or 'w'");
  return d;
}
function b64(cmd, key) {
  const s = field(cmd, key, 'string', true);
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s))
    throw new Fail('protocol_error', `field '${key}' is not base64`);
  return Buffer.from(s, 'base64');
}
function pattern(size, seed) {
  const period = Buffer.alloc(251);
  for (let k = 0; k < 251; k++) period[k] = (seed + k) % 256;
  const out = Buffer.alloc(size);
  for (let off = 0; off < size; off += 251) period.copy(out, off, 0, Math.min(251, size - off));
  return out;
}
function payload(cmd) {
  if ('pattern' in cmd) {
    const p = field(cmd, 'pattern', 'object', true);
    const size = field(p, 'size', 'int', true), seed = field(p, 'seed', 'int', false) || 0;
    if (size < 0 || seed < 0 || seed > 255) throw new Fail('protocol_error', 'pattern out of range');
    return pattern(size, seed);
  }
  return b64(cmd, 'data');
}
function timeoutOf(cmd) {
  const t = field(cmd, 'timeout_ms', 'int', false);
  if (t !== undefined && t < 0) throw new Fail('protocol_error', "field 'timeout_ms' is negative");
  return t;
}
// Names go to Node as given (NAME-2): what Node does with an empty name or a NUL byte is what the
// suite sees (NAME-3).

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fsp = fs.promises;
// Raw descriptors (fs.open's callback form): a FileHandle would close its descriptor when
// collected, behind the net.Socket that owns it by then.
const openRaw = (p, flags) => new Promise((res, rej) => fs.open(p, flags, (e, fd) => (e ? rej(e) : res(fd))));
const fstatRaw = (fd) => new Promise((res, rej) => fs.fstat(fd, (e, st) => (e ? rej(e) : res(st))));

// -- handles ------------------------------------------------------------------------------------
const handles = new Map();
let counter = 0;
function newHandle(prefix, value) { counter += 1; const h = prefix + counter; handles.set(h, value); return h; }
function getHandle(cmd, kinds, key = 'handle') {
  const h = field(cmd, key, 'string', true);
  const v = handles.get(h);
  if (!v || !kinds.includes(v.kind)) throw new Fail('protocol_error', `unknown, closed or wrong kind of handle '${h}'`);
  return [h, v];
}

// -- a byte source over a net.Socket: bytes Node has read, waiting for their op ----------------
// A read end of a FIFO and a Channel connection are both net.Socket (libuv uv_pipe_open /
// uv_pipe_connect); Node reads ahead into this buffer, the ops take from it.
// A FIFO's read end is kept paused between reads (socket.pause() stops libuv reading), so the
// agent takes from the kernel only while a read is in flight: a writer still meets a full FIFO
// when nobody reads (FIFO-IO-4). A connection reads ahead freely: its framing is the agent's.
class Inbox {
  constructor(sock, pauseIdle) {
    this.sock = sock; this.chunks = []; this.size = 0; this.eof = false; this.error = null; this.wake = null;
    this.pauseIdle = pauseIdle;
    if (pauseIdle) sock.pause();
    if (sock.destroyed || sock.readableEnded) this.eof = true;
    sock.on('data', (d) => {
      this.chunks.push(d); this.size += d.length;
      if (this.pauseIdle) sock.pause();
      this.notify();
    });
    sock.on('end', () => { this.eof = true; this.notify(); });
    sock.on('error', (e) => { this.error = e; this.notify(); });
    sock.on('close', () => { this.eof = true; this.notify(); });
  }
  notify() { const w = this.wake; this.wake = null; if (w) w(); }
  take(n) {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : []; this.size = rest.length;
    return out;
  }
  // Waits until `n` bytes are there, or EOF/error, or the deadline (a steady-clock ms value).
  async wait(n, deadline) {
    while (this.size < n && !this.eof && !this.error) {
      if (this.pauseIdle) this.sock.resume();
      const left = deadline === undefined ? undefined : deadline - performance.now();
      if (left !== undefined && left <= 0) return false;
      await new Promise((resolve) => {
        this.wake = resolve;
        if (left !== undefined) setTimeout(() => { if (this.wake === resolve) this.notify(); }, left);
      });
    }
    return true;
  }
}

function writeAll(sock, buf) {
  return new Promise((resolve, reject) => {
    if (sock.destroyed) { reject(Object.assign(new Error('socket closed'), { code: 'EPIPE' })); return; }
    const onErr = (e) => reject(e);
    sock.once('error', onErr);
    sock.write(buf, (e) => { sock.removeListener('error', onErr); if (e) reject(e); else resolve(); });
  });
}

// -- session ------------------------------------------------------------------------------------
function opHello() {
  return { protocol: 1, impl: 'node', version: process.versions.node, platform: process.platform,
    profiles: ['fifo', 'channel'], ops: OPS, uv: process.versions.uv };
}

// -- FIFO profile -------------------------------------------------------------------------------
async function opCreate(cmd) {
  const path = field(cmd, 'name', 'string', true);
  const d = dirOf(cmd);
  field(cmd, 'mode', 'int', false);
  const adopt = field(cmd, 'adopt', 'boolean', false);
  // Node's fs has no mkfifo: a FIFO can only be adopted, never made (README.md).
  if (!adopt) throw new Fail('unsupported', "Node's fs has no mkfifo: it cannot create a FIFO");
  let st;
  try { st = await fsp.lstat(path, { bigint: true }); } catch (e) {
    if (e.code === 'ENOENT') throw new Fail('unsupported', "nothing to adopt, and Node's fs has no mkfifo");
    throw osFail(e, 'lstat ' + path);
  }
  if (!st.isFIFO()) throw new Fail('not_a_pipe', `${path} exists and is not a FIFO`);
  if (process.geteuid && st.uid !== BigInt(process.geteuid())) throw new Fail('permission_denied', `${path} belongs to uid ${st.uid}`);
  return { handle: newHandle('o', { kind: 'owner', path, dir: d, ident: [st.dev, st.ino] }) };
}

async function openFifo(path, d, timeout) {
  let st;
  try { st = await fsp.lstat(path); } catch (e) { throw osFail(e, 'lstat ' + path); }
  if (!st.isFIFO()) throw new Fail('not_a_pipe', `${path} is not a FIFO`);
  const base = (d === 'r' ? C.O_RDONLY : C.O_WRONLY) | C.O_NOFOLLOW;
  let fd;
  if (timeout === undefined) {
    // Blocking open, on a libuv thread-pool thread (fs.open cannot be cancelled).
    try { fd = await openRaw(path, base); } catch (e) { throw osFail(e, 'open ' + path); }
  } else if (timeout === 0 || d === 'r') {
    if (timeout > 0) throw new Fail('unsupported', 'a read open with a deadline: fs.open cannot be cancelled and poll cannot see a writer arrive');
    try { fd = await openRaw(path, base | C.O_NONBLOCK); } catch (e) { throw osFail(e, 'open ' + path); }
  } else {
    // A write open with a deadline: a non-blocking open retried until a reader is there
    // (ENXIO until then), the way FIFO-OPEN-3 allows, with Node's timers.
    const deadline = performance.now() + timeout;
    for (;;) {
      try { fd = await openRaw(path, base | C.O_NONBLOCK); break; } catch (e) {
        if (e.code !== 'ENXIO') throw osFail(e, 'open ' + path);
        if (performance.now() >= deadline) throw new Fail('timeout', 'no reader came', 'ENXIO');
        await sleep(Math.min(5, Math.max(0, deadline - performance.now())));
      }
    }
  }
  const fst = await fstatRaw(fd);
  if (!fst.isFIFO()) { fs.closeSync(fd); throw new Fail('not_a_pipe', `${path} is not a FIFO`); }
  // The descriptor goes to a net.Socket: libuv's pipe handle makes it non-blocking and
  // polls it, which is how Node reads and writes a FIFO without blocking its loop.
  const sock = new net.Socket({ fd, readable: d === 'r', writable: d === 'w' });
  const end = { kind: 'end', dir: d, sock };
  if (d === 'r') end.inbox = new Inbox(sock, true);
  else sock.on('error', () => {});
  return end;
}

async function opOpen(cmd) {
  const timeout = timeoutOf(cmd);
  let path, d;
  if ('owner' in cmd) {
    const [, owner] = getHandle(cmd, ['owner'], 'owner');
    d = dirOf(cmd);
    if (d !== owner.dir) throw new Fail('protocol_error', `the owner was created for the '${owner.dir}' end`);
    path = owner.path;
  } else {
    path = field(cmd, 'name', 'string', true); d = dirOf(cmd);
  }
  return { handle: newHandle('h', await openFifo(path, d, timeout)) };
}

async function opRead(cmd) {
  const [, end] = getHandle(cmd, ['end']);
  if (end.dir !== 'r') throw new Fail('protocol_error', 'not a read end');
  const timeout = timeoutOf(cmd);
  const max = field(cmd, 'max', 'int', false) ?? 65536;
  if (max < 1) throw new Fail('protocol_error', "field 'max' must be at least 1");
  const deadline = timeout === undefined ? undefined : performance.now() + timeout;
  const inbox = end.inbox;
  if (field(cmd, 'digest', 'boolean', false)) {
    const h = crypto.createHash('sha256'); let size = 0;
    for (;;) {
      if (!(await inbox.wait(1, deadline))) throw new Fail('timeout', 'no EOF before the deadline');
      if (inbox.size) { const b = inbox.take(inbox.size); h.update(b); size += b.length; continue; }
      if (inbox.error) throw osFail(inbox.error, 'read');
      return { size, sha256: h.digest('hex'), eof: true };
    }
  }
  if (!(await inbox.wait(1, deadline))) throw new Fail(timeout === 0 ? 'would_block' : 'timeout', 'no data');
  if (inbox.size) return { data: inbox.take(max).toString('base64') };
  if (inbox.error) throw osFail(inbox.error, 'read');
  return { eof: true };
}

async function opWrite(cmd) {
  const [, end] = getHandle(cmd, ['end']);
  if (end.dir !== 'w') throw new Fail('protocol_error', 'not a write end');
  const timeout = timeoutOf(cmd);
  const repeat = field(cmd, 'repeat', 'int', false) ?? 1;
  if (repeat < 1) throw new Fail('protocol_error', "field 'repeat' must be at least 1");
  const data = payload(cmd);
  // net.Socket.write queues in user space and cannot take bytes back: a deadline or
  // non-blocking write could not report an exact count (FIFO-IO-6).
  if (timeout !== undefined) throw new Fail('unsupported', 'net.Socket.write has no deadline and no non-blocking form');
  let written = 0;
  if (data.length === 0) return { written: 0 };  // never handed to the system (FIFO-IO-8)
  for (let i = 0; i < repeat; i++) {
    try { await writeAll(end.sock, data); } catch (e) { throw osFail(e, 'write'); }
    written += data.length;
  }
  return { written };
}

async function removeIfOurs(owner) {
  if (!owner.ident) return;
  try {
    const st = await fsp.lstat(owner.path, { bigint: true });
    if (st.isFIFO() && st.dev === owner.ident[0] && st.ino === owner.ident[1]) await fsp.unlink(owner.path);
  } catch (e) { if (e.code !== 'ENOENT') throw osFail(e, 'unlink ' + owner.path); }
}
async function opRemove(cmd) { const [, o] = getHandle(cmd, ['owner']); await removeIfOurs(o); o.ident = null; return {}; }
async function opRelease(cmd) { const [, o] = getHandle(cmd, ['owner']); o.ident = null; return {}; }

async function closeValue(v) {
  if (v.kind === 'owner') await removeIfOurs(v);
  else if (v.kind === 'end' || v.kind === 'conn') v.sock.destroy();
  // server.close()'s callback waits for every accepted connection to end: not awaited, the
  // listening socket itself is closed at once (CHAN-LIFE-3).
  else if (v.kind === 'listener') { v.server.close(); for (const c of v.queue) c.sock.destroy(); }
}
async function opClose(cmd) {
  const [h, v] = getHandle(cmd, ['owner', 'end', 'listener', 'conn']);
  handles.delete(h);
  await closeValue(v);
  return {};
}

// -- Channel profile: multiprocessing.connection framing and handshake, on net ------------------
async function recvFrame(conn, max, deadline) {
  const inbox = conn.inbox;
  if (!(await inbox.wait(4, deadline))) return { timeout: true };
  if (inbox.size < 4) {
    if (inbox.size === 0) return { eof: true };
    throw new Fail('protocol_error', 'end of file inside a message header');
  }
  const head = inbox.chunks.length === 1 ? inbox.chunks[0] : Buffer.concat(inbox.chunks);
  let n = head.readInt32BE(0), hlen = 4;
  if (n === -1) {
    if (!(await inbox.wait(12, deadline))) return { timeout: true };
    if (inbox.size < 12) throw new Fail('protocol_error', 'end of file inside a message header');
    const h = inbox.chunks.length === 1 ? inbox.chunks[0] : Buffer.concat(inbox.chunks);
    const big = h.readBigUInt64BE(4);
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) { conn.readBroken = true; throw new Fail('message_too_long', `a message of ${big} bytes`); }
    n = Number(big); hlen = 12;
  } else if (n < 0) {
    conn.readBroken = true;
    throw new Fail('protocol_error', `negative message length ${n}`);
  }
  if (max !== undefined && n > max) {
    conn.readBroken = true;  // the stream is no longer at a message boundary (CHAN-RECV-2)
    throw new Fail('message_too_long', `a message of ${n} bytes, maxlength ${max}`);
  }
  if (!(await inbox.wait(hlen + n, deadline))) return { timeout: true };
  if (inbox.size < hlen + n) throw new Fail('protocol_error', 'end of file during message');
  inbox.take(hlen);
  return { data: Buffer.from(inbox.take(n)) };
}

function frame(buf) {
  if (buf.length <= 0x7fffffff) { const h = Buffer.alloc(4); h.writeInt32BE(buf.length); return [h, buf]; }
  const h = Buffer.alloc(12); h.writeInt32BE(-1); h.writeBigUInt64BE(BigInt(buf.length), 4); return [h, buf];
}
async function sendFrame(conn, buf) {
  const [h, b] = frame(buf);
  await writeAll(conn.sock, Buffer.concat([h, b]));
}

const CHALLENGE = Buffer.from('#CHALLENGE#'), WELCOME = Buffer.from('#WELCOME#'), FAILURE = Buffer.from('#FAILURE#');

function hmac(name, key, msg) { return crypto.createHmac(DIGESTS[name], key).update(msg).digest(); }
// "{name}" + payload -> [name, payload]; no prefix -> ['md5', whole] (the legacy raw form).
function splitDigest(buf) {
  if (buf[0] === 0x7b) {
    const close = buf.indexOf(0x7d);
    if (close > 0 && close <= 21) {
      const name = buf.subarray(1, close).toString('latin1');
      if (!(name in DIGESTS)) throw new Fail('auth_failed', `unknown digest {${name}}`);
      return [name, buf.subarray(close + 1), true];
    }
    throw new Fail('auth_failed', 'malformed {digest} prefix');
  }
  return ['md5', buf, false];
}

async function hsRecv(conn, deadline) {
  let r;
  try { r = await recvFrame(conn, 256, deadline); } catch (e) {
    if (e instanceof Fail) throw new Fail('auth_failed', 'handshake: ' + e.message);
    throw e;
  }
  if (r.timeout) throw new Fail('timeout', 'handshake: the peer did not answer in time');
  if (r.eof) throw new Fail('auth_failed', 'handshake: the peer closed');
  return r.data;
}
async function hsSend(conn, buf) {
  try { await sendFrame(conn, buf); } catch (e) { throw new Fail('auth_failed', 'handshake: ' + e.message, e.code); }
}
async function deliverChallenge(conn, key, form, deadline) {
  const msg = form === 'md5' ? crypto.randomBytes(20) : Buffer.concat([Buffer.from('{sha256}'), crypto.randomBytes(40)]);
  await hsSend(conn, Buffer.concat([CHALLENGE, msg]));
  const answer = await hsRecv(conn, deadline);
  let ok = false;
  if (answer.length === 16) ok = crypto.timingSafeEqual(answer, hmac('md5', key, msg));
  else if (answer[0] === 0x7b) {
    try {
      const [name, mac] = splitDigest(answer);
      const want = hmac(name, key, msg);
      ok = mac.length === want.length && crypto.timingSafeEqual(mac, want);
    } catch (e) { ok = false; }
  }
  if (!ok) { await hsSend(conn, FAILURE).catch(() => {}); throw new Fail('auth_failed', 'digest received was wrong'); }
  await hsSend(conn, WELCOME);
}
async function answerChallenge(conn, key, deadline) {
  const m = await hsRecv(conn, deadline);
  if (!m.subarray(0, CHALLENGE.length).equals(CHALLENGE)) throw new Fail('auth_failed', 'not a #CHALLENGE# message');
  const msg = m.subarray(CHALLENGE.length);
  // A 20-byte message is the legacy form whatever its first byte (random bytes may start with
  // '{'), as CPython 3.12's _get_digest_name_and_payload decides by length first.
  const [name, rest, prefixed] = msg.length === 20 ? ['md5', msg, false] : splitDigest(msg);
  if (rest.length < 20) throw new Fail('auth_failed', 'challenge too short');
  const answer = prefixed ? Buffer.concat([Buffer.from(`{${name}}`), hmac(name, key, msg)]) : hmac('md5', key, msg);
  await hsSend(conn, answer);
  const verdict = await hsRecv(conn, deadline);
  if (!verdict.equals(WELCOME)) throw new Fail('auth_failed', 'digest sent was rejected');
}

function authOf(cmd) {
  const challenge = field(cmd, 'challenge', 'string', false) ?? 'sha256';
  if (challenge !== 'sha256' && challenge !== 'md5') throw new Fail('protocol_error', "field 'challenge' must be 'sha256' or 'md5'");
  return { key: 'authkey' in cmd ? b64(cmd, 'authkey') : null, challenge };
}

function newConn(sock) {
  const conn = { kind: 'conn', sock, readBroken: false };
  conn.inbox = new Inbox(sock, false);
  return conn;
}

async function opListen(cmd) {
  const address = field(cmd, 'address', 'string', true);
  const auth = authOf(cmd);
  const server = net.createServer();
  const listener = { kind: 'listener', server, auth, queue: [], wake: null, error: null };
  server.on('connection', (sock) => {
    listener.queue.push(newConn(sock));  // Node accepted it already: its bytes are buffered
    const w = listener.wake; listener.wake = null; if (w) w();
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ path: address, backlog: 64 }, () => { server.removeListener('error', reject); resolve(); });
  }).catch((e) => { throw osFail(e, 'listen ' + address); });
  server.on('error', (e) => { listener.error = e; });
  return { handle: newHandle('l', listener) };
}

async function opAccept(cmd) {
  const [, l] = getHandle(cmd, ['listener']);
  const timeout = timeoutOf(cmd);
  const deadline = timeout === undefined ? undefined : performance.now() + timeout;
  while (!l.queue.length) {
    const left = deadline === undefined ? undefined : deadline - performance.now();
    if (left !== undefined && left <= 0) throw new Fail(timeout === 0 ? 'would_block' : 'timeout', 'no client');
    await new Promise((resolve) => {
      l.wake = resolve;
      if (left !== undefined) setTimeout(() => { if (l.wake === resolve) { l.wake = null; resolve(); } }, left);
    });
  }
  const conn = l.queue.shift();
  const sock = conn.sock;
  if (l.auth.key !== null) {
    const hsDeadline = Math.min(deadline ?? Infinity, performance.now() + HANDSHAKE_MS);
    try {
      await deliverChallenge(conn, l.auth.key, l.auth.challenge, hsDeadline);
      await answerChallenge(conn, l.auth.key, hsDeadline);
    } catch (e) { sock.destroy(); throw e; }
  }
  return { handle: newHandle('c', conn) };
}

async function opConnect(cmd) {
  const address = field(cmd, 'address', 'string', true);
  const auth = authOf(cmd);
  const timeout = timeoutOf(cmd);
  const deadline = timeout === undefined ? undefined : performance.now() + timeout;
  const sock = await new Promise((resolve, reject) => {
    const s = net.createConnection({ path: address });
    s.once('connect', () => { s.removeListener('error', reject); resolve(s); });
    s.once('error', reject);
  }).catch((e) => { throw osFail(e, 'connect ' + address); });
  const conn = newConn(sock);
  if (auth.key !== null) {
    const hsDeadline = Math.min(deadline ?? Infinity, performance.now() + HANDSHAKE_MS);
    try {
      await answerChallenge(conn, auth.key, hsDeadline);
      await deliverChallenge(conn, auth.key, auth.challenge, hsDeadline);
    } catch (e) { sock.destroy(); throw e; }
  }
  return { handle: newHandle('c', conn) };
}

async function opSend(cmd) {
  const [, conn] = getHandle(cmd, ['conn']);
  if ('timeout_ms' in cmd) throw new Fail('unsupported', 'net.Socket.write has no deadline');
  const data = payload(cmd);
  try { await sendFrame(conn, data); } catch (e) { throw osFail(e, 'send'); }
  return { sent: data.length };
}

async function opRecv(cmd) {
  const [, conn] = getHandle(cmd, ['conn']);
  const timeout = timeoutOf(cmd);
  const max = field(cmd, 'max', 'int', false);
  const digest = field(cmd, 'digest', 'boolean', false);
  if (conn.readBroken) throw new Fail('io_error', 'the connection is write-only after a refused message');
  const deadline = timeout === undefined ? undefined : performance.now() + timeout;
  let r;
  try { r = await recvFrame(conn, max, deadline); } catch (e) {
    if (e instanceof Fail) throw e;
    throw osFail(e, 'recv');
  }
  if (r.timeout) throw new Fail(timeout === 0 ? 'would_block' : 'timeout', 'no whole message');
  if (r.eof) {
    // ECONNRESET from a peer that died with bytes unread is the end of the stream here
    // (CHAN-LIFE-2: EOF on a message boundary).
    if (conn.inbox.error && conn.inbox.error.code !== 'ECONNRESET') throw osFail(conn.inbox.error, 'recv');
    return { eof: true };
  }
  if (digest) return { size: r.data.length, sha256: crypto.createHash('sha256').update(r.data).digest('hex') };
  return { data: r.data.toString('base64') };
}

const HANDLERS = { hello: opHello, create: opCreate, open: opOpen, read: opRead, write: opWrite,
  remove: opRemove, release: opRelease, close: opClose, listen: opListen, accept: opAccept,
  connect: opConnect, send: opSend, recv: opRecv };

// -- the loop: one command at a time; lines that arrive meanwhile wait their turn -------------
function reply(obj) { process.stdout.write(JSON.stringify(obj) + '\n'); }

async function closeAll() {
  for (const [h, v] of handles) { handles.delete(h); try { await closeValue(v); } catch (e) { /* exiting */ } }
}

async function run(line) {
  let cmd;
  const out = { id: null, ok: true };
  try {
    try { cmd = JSON.parse(line); } catch (e) { throw new Fail('protocol_error', 'line: not JSON: ' + e.message); }
    if (cmd === null || typeof cmd !== 'object' || Array.isArray(cmd)) throw new Fail('protocol_error', 'line: a JSON object expected');
    if ('id' in cmd) out.id = cmd.id;
    field(cmd, 'id', 'int', true);
    const op = field(cmd, 'op', 'string', true);
    if (op === 'bye') { await closeAll(); reply(out); return 'bye'; }
    const handler = HANDLERS[op];
    if (!handler) throw new Fail('unsupported', `unknown op '${op}'`);
    Object.assign(out, await handler(cmd));
  } catch (e) {
    out.ok = false;
    if (e instanceof Fail) { out.error = e.error; out.message = e.message; if (e.native) out.native = e.native; }
    else { out.error = 'io_error'; out.message = String(e && e.stack || e); if (e && e.code) out.native = e.code; }
  }
  reply(out);
  return 'next';
}

async function main() {
  // libuv starts its thread pool (4 threads) on the first fs call: started here, so that a
  // timed-out open is not seen to leave threads behind (FIFO-OPEN-3 counts them).
  await Promise.all([1, 2, 3, 4].map(() => fsp.stat('/')));
  const lines = [];
  let wake = null, eof = false, buf = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) { lines.push(buf.slice(0, nl)); buf = buf.slice(nl + 1); }
    if (wake) { const w = wake; wake = null; w(); }
  });
  process.stdin.on('end', () => { eof = true; if (wake) { const w = wake; wake = null; w(); } });
  for (;;) {
    while (!lines.length && !eof) await new Promise((r) => { wake = r; });
    if (!lines.length) break;
    if ((await run(lines.shift())) === 'bye') break;
  }
  await closeAll();
  // A blocking fs.open still waiting on a libuv thread-pool thread would keep Node from ending
  // by itself (the pool is joined at exit): leave at once, as the protocol asks at EOF.
  process.stdout.write('', () => process.exit(0));
}

main();
