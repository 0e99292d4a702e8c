//! npipe agent for Rust, standard library only: spec/driver-protocol.md, written from that page
//! and spec/npipe.md. FIFOs: std::fs::OpenOptions (+ OpenOptionsExt::custom_flags) and File;
//! channels: std::os::unix::net::{UnixListener, UnixStream}. The JSON reader, base64, the
//! digests and multiprocessing.connection's framing and HMAC handshake are written here: std
//! has none of them (crypto.rs, json.rs). What std cannot do is answered `unsupported`
//! (README.md lists each case and why). Builds with rustc 1.63 (Debian 12) and later.
mod crypto;
mod json;

use json::Json;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, ErrorKind, Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

// Linux's values: std has open(2)'s flags only as custom_flags, without their names.
const O_NONBLOCK: i32 = 0o4000;
const O_NOFOLLOW: i32 = 0o400000;
const HANDSHAKE: Duration = Duration::from_secs(10); // CHAN-AUTH-8's default
const OPS: [&str; 14] = ["hello", "bye", "create", "open", "read", "write", "remove", "release",
    "close", "listen", "accept", "connect", "send", "recv"];

struct Fail {
    error: &'static str,
    message: String,
    native: Option<String>,
}
type R<T> = Result<T, Fail>;

fn fail<T>(error: &'static str, message: impl Into<String>) -> R<T> {
    Err(Fail { error, message: message.into(), native: None })
}

fn os_fail(e: io::Error, what: &str) -> Fail {
    let error = match e.raw_os_error() {
        Some(2) | Some(20) | Some(111) => "not_found", // ENOENT ENOTDIR ECONNREFUSED
        Some(17) | Some(98) => "already_exists",        // EEXIST EADDRINUSE
        Some(11) | Some(6) => "would_block",            // EAGAIN ENXIO
        Some(32) | Some(104) => "broken_pipe",          // EPIPE ECONNRESET
        Some(13) | Some(1) => "permission_denied",      // EACCES EPERM
        Some(36) | Some(22) => "invalid_name",          // ENAMETOOLONG EINVAL
        Some(40) | Some(21) | Some(88) => "not_a_pipe", // ELOOP EISDIR ENOTSOCK
        Some(110) => "timeout",
        _ => match e.kind() {
            ErrorKind::InvalidInput => "invalid_name", // std's own checks: NUL byte, sun_path
            ErrorKind::WouldBlock => "would_block",
            ErrorKind::TimedOut => "timeout",
            _ => "io_error",
        },
    };
    Fail { error, message: format!("{}: {}", what, e), native: Some(format!("{:?}", e.kind())) }
}

// -- command fields ------------------------------------------------------------------------------
struct Cmd<'a>(&'a Json);

impl<'a> Cmd<'a> {
    fn has(&self, k: &str) -> bool {
        self.0.get(k).is_some()
    }
    fn str(&self, k: &str) -> R<&'a str> {
        match self.0.get(k) {
            None => fail("protocol_error", format!("missing field '{}'", k)),
            Some(Json::Str(s)) => Ok(s),
            _ => fail("protocol_error", format!("field '{}' must be a string", k)),
        }
    }
    fn int(&self, k: &str, min: i64) -> R<Option<i64>> {
        match self.0.get(k) {
            None => Ok(None),
            Some(Json::Int(i)) if *i >= min => Ok(Some(*i)),
            _ => fail("protocol_error", format!("field '{}' must be an integer >= {}", k, min)),
        }
    }
    fn boolean(&self, k: &str) -> R<bool> {
        match self.0.get(k) {
            None => Ok(false),
            Some(Json::Bool(b)) => Ok(*b),
            _ => fail("protocol_error", format!("field '{}' must be a boolean", k)),
        }
    }
    fn dir(&self) -> R<char> {
        match self.str("dir")? {
            "r" => Ok('r'),
            "w" => Ok('w'),
            _ => fail("protocol_error", "field 'dir' must be 'r' or 'w'"),
        }
    }
    fn b64(&self, k: &str) -> R<Vec<u8>> {
        match crypto::base64_decode(self.str(k)?) {
            Some(b) => Ok(b),
            None => fail("protocol_error", format!("field '{}' is not base64", k)),
        }
    }
    fn payload(&self) -> R<Vec<u8>> {
        if let Some(p) = self.0.get("pattern") {
            let pc = Cmd(p);
            let size = match pc.int("size", 0)? {
                Some(s) if s <= 1 << 31 => s as usize,
                _ => return fail("protocol_error", "pattern size missing or too large"),
            };
            let seed = pc.int("seed", 0)?.unwrap_or(0);
            if seed > 255 {
                return fail("protocol_error", "pattern seed out of range");
            }
            return Ok((0..size).map(|i| ((seed as usize + i % 251) % 256) as u8).collect());
        }
        self.b64("data")
    }
    fn timeout(&self) -> R<Option<u64>> {
        Ok(self.int("timeout_ms", 0)?.map(|t| t as u64))
    }
}

// Names go to std as given (NAME-2): what std does with an empty name or a NUL byte is what the
// suite sees (NAME-3).

// -- handles -------------------------------------------------------------------------------------
struct Owner {
    path: String,
    dir: char,
    ident: Option<(u64, u64)>,
}
struct Conn {
    s: UnixStream,
    buf: Vec<u8>, // bytes received, not yet a whole message (a deadline inside one keeps them)
    eof: bool,
    read_broken: bool,
    write_broken: bool, // a send's deadline cut a frame: nothing after it could be parsed
}
struct Listener {
    l: UnixListener,
    path: String,
    ident: (u64, u64), // the socket file this listener made
    key: Option<Vec<u8>>,
    challenge: String,
}
enum Handle {
    Owner(Owner),
    End(File, char),
    Listener(Listener),
    Conn(Conn),
}

struct Agent {
    handles: HashMap<String, Handle>,
    counter: u64,
}

type Reply = Vec<(&'static str, Json)>;

fn is_fifo(path: &str) -> R<std::fs::Metadata> {
    let md = std::fs::symlink_metadata(path).map_err(|e| os_fail(e, &format!("lstat {}", path)))?;
    if !md.file_type().is_fifo() {
        return fail("not_a_pipe", format!("{} is not a FIFO", path));
    }
    Ok(md)
}

fn open_fifo(path: &str, dir: char, nonblock: bool) -> io::Result<File> {
    let mut o = OpenOptions::new();
    if dir == 'r' {
        o.read(true);
    } else {
        o.write(true);
    }
    o.custom_flags(O_NOFOLLOW | if nonblock { O_NONBLOCK } else { 0 });
    o.open(path)
}

// A deadline open: the blocking open runs on a thread; when the deadline passes, the agent opens
// the other side itself (the waiting opener counts as the partner, so it does not wait), which
// completes the blocked open; both are closed, the answer is timeout. The thread ends; nothing
// stays open (FIFO-OPEN-3's "wake the blocked open").
fn open_with_deadline(path: &str, dir: char, limit: Duration) -> R<File> {
    let (tx, rx) = mpsc::channel();
    let p = path.to_string();
    let t = std::thread::spawn(move || {
        let _ = tx.send(open_fifo(&p, dir, false));
    });
    match rx.recv_timeout(limit) {
        Ok(r) => {
            let _ = t.join();
            return r.map_err(|e| os_fail(e, &format!("open {}", path)));
        }
        Err(_) => {
            let other = open_fifo(path, if dir == 'r' { 'w' } else { 'r' }, dir == 'w');
            let woken = rx.recv();
            let _ = t.join();
            drop(other);
            drop(woken);
        }
    }
    fail("timeout", "no peer came before the deadline")
}

fn pairs(v: Reply) -> Json {
    Json::Obj(v.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

impl Agent {
    fn add(&mut self, prefix: &str, h: Handle) -> Json {
        self.counter += 1;
        let name = format!("{}{}", prefix, self.counter);
        self.handles.insert(name.clone(), h);
        Json::Str(name)
    }

    fn handle<'b>(&'b mut self, c: &Cmd, key: &str) -> R<&'b mut Handle> {
        let h = c.str(key)?.to_string();
        match self.handles.get_mut(&h) {
            Some(v) => Ok(v),
            None => fail("protocol_error", format!("unknown or closed handle '{}'", h)),
        }
    }

    fn hello(&mut self) -> R<Reply> {
        Ok(vec![
            ("protocol", Json::Int(1)),
            ("impl", Json::Str("rust-std".into())),
            ("version", Json::Str(env!("NPIPE_RUSTC_VERSION").into())),
            ("platform", Json::Str(std::env::consts::OS.into())),
            ("profiles", Json::Arr(vec![Json::Str("fifo".into()), Json::Str("channel".into())])),
            ("ops", Json::Arr(OPS.iter().map(|s| Json::Str(s.to_string())).collect())),
        ])
    }

    // -- FIFO profile --------------------------------------------------------------------------
    fn create(&mut self, c: &Cmd) -> R<Reply> {
        let path = c.str("name")?;
        let dir = c.dir()?;
        c.int("mode", 0)?;
        // std has no mkfifo: a FIFO can only be adopted, never made (README.md).
        if !c.boolean("adopt")? {
            return fail("unsupported", "Rust's std has no mkfifo: it cannot create a FIFO");
        }
        let md = match std::fs::symlink_metadata(path) {
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return fail("unsupported", "nothing to adopt, and std has no mkfifo")
            }
            Err(e) => return Err(os_fail(e, &format!("lstat {}", path))),
            Ok(md) => md,
        };
        if !md.file_type().is_fifo() {
            return fail("not_a_pipe", format!("{} exists and is not a FIFO", path));
        }
        // FIFO-SEC-6: only a FIFO of this process's effective user. std has no geteuid: the
        // owner of /proc/self is that user (Linux).
        let euid = std::fs::metadata("/proc/self").map_err(|e| os_fail(e, "stat /proc/self"))?.uid();
        if md.uid() != euid {
            return fail("permission_denied", format!("{} belongs to uid {}, not {}", path, md.uid(), euid));
        }
        let o = Owner { path: path.to_string(), dir, ident: Some((md.dev(), md.ino())) };
        Ok(vec![("handle", self.add("o", Handle::Owner(o)))])
    }

    fn open(&mut self, c: &Cmd) -> R<Reply> {
        let timeout = c.timeout()?;
        let (path, dir) = if c.has("owner") {
            let dir = c.dir()?;
            match self.handle(c, "owner")? {
                Handle::Owner(o) if o.dir == dir => (o.path.clone(), dir),
                Handle::Owner(o) => {
                    return fail("protocol_error", format!("the owner was created for the '{}' end", o.dir))
                }
                _ => return fail("protocol_error", "not an owner handle"),
            }
        } else {
            let p = c.str("name")?;
            (p.to_string(), c.dir()?)
        };
        is_fifo(&path)?;
        let f = match timeout {
            None => open_fifo(&path, dir, false).map_err(|e| os_fail(e, &format!("open {}", path)))?,
            Some(0) if dir == 'w' => {
                // Non-blocking open (ENXIO without a reader), then the end the agent keeps is
                // opened again blocking: std cannot clear O_NONBLOCK (no fcntl), and later calls
                // take their own deadline form. A reader is there, so that open does not wait.
                let probe = open_fifo(&path, dir, true).map_err(|e| os_fail(e, &format!("open {}", path)))?;
                let f = open_fifo(&path, dir, false).map_err(|e| os_fail(e, &format!("open {}", path)))?;
                drop(probe);
                f
            }
            Some(0) => {
                return fail("unsupported", "a non-blocking read open would leave the end non-blocking: \
                             std::fs::File cannot clear O_NONBLOCK and has no poll")
            }
            Some(ms) => open_with_deadline(&path, dir, Duration::from_millis(ms))?,
        };
        let md = f.metadata().map_err(|e| os_fail(e, "fstat"))?;
        if !md.file_type().is_fifo() {
            return fail("not_a_pipe", format!("{} is not a FIFO", path));
        }
        Ok(vec![("handle", self.add("h", Handle::End(f, dir)))])
    }

    fn read(&mut self, c: &Cmd) -> R<Reply> {
        if c.has("timeout_ms") {
            return fail("unsupported", "std::fs::File has no read deadline and no non-blocking read");
        }
        let max = c.int("max", 1)?.unwrap_or(65536) as usize;
        let digest = c.boolean("digest")?;
        let f = match self.handle(c, "handle")? {
            Handle::End(f, 'r') => f,
            _ => return fail("protocol_error", "not a read end"),
        };
        if digest {
            let mut h = crypto::Sha256::new();
            let mut buf = vec![0u8; 1 << 20];
            let mut size = 0i64;
            loop {
                match f.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        h.update(&buf[..n]);
                        size += n as i64;
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(os_fail(e, "read")),
                }
            }
            return Ok(vec![("size", Json::Int(size)), ("sha256", Json::Str(crypto::hex(&h.finish()))),
                           ("eof", Json::Bool(true))]);
        }
        let mut buf = vec![0u8; max.min(1 << 24)];
        let n = loop {
            match f.read(&mut buf) {
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                r => break r.map_err(|e| os_fail(e, "read"))?,
            }
        };
        if n == 0 {
            return Ok(vec![("eof", Json::Bool(true))]);
        }
        Ok(vec![("data", Json::Str(crypto::base64_encode(&buf[..n])))])
    }

    fn write(&mut self, c: &Cmd) -> R<Reply> {
        if c.has("timeout_ms") {
            return fail("unsupported", "std::fs::File has no write deadline and no non-blocking write");
        }
        let repeat = c.int("repeat", 1)?.unwrap_or(1);
        let data = c.payload()?;
        let f = match self.handle(c, "handle")? {
            Handle::End(f, 'w') => f,
            _ => return fail("protocol_error", "not a write end"),
        };
        if data.is_empty() {
            return Ok(vec![("written", Json::Int(0))]); // never handed to the system (FIFO-IO-8)
        }
        for _ in 0..repeat {
            f.write_all(&data).map_err(|e| os_fail(e, "write"))?;
        }
        Ok(vec![("written", Json::Int(repeat * data.len() as i64))])
    }

    fn remove_if_ours(o: &mut Owner) -> R<()> {
        if let Some((dev, ino)) = o.ident.take() {
            match std::fs::symlink_metadata(&o.path) {
                Ok(md) if md.file_type().is_fifo() && md.dev() == dev && md.ino() == ino => {
                    std::fs::remove_file(&o.path).map_err(|e| os_fail(e, "unlink"))?
                }
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(os_fail(e, "lstat")),
            }
        }
        Ok(())
    }

    fn remove(&mut self, c: &Cmd, release: bool) -> R<Reply> {
        match self.handle(c, "handle")? {
            Handle::Owner(o) if release => o.ident = None,
            Handle::Owner(o) => Agent::remove_if_ours(o)?,
            _ => return fail("protocol_error", "not an owner handle"),
        }
        Ok(vec![])
    }

    fn close_handle(h: Handle) -> R<()> {
        match h {
            Handle::Owner(mut o) => Agent::remove_if_ours(&mut o),
            // std's UnixListener leaves its socket file when dropped (README.md): the agent
            // removes it, only while it is still the one this listener made (CHAN-LISTEN-5).
            Handle::Listener(l) => {
                let mut o = Owner { path: l.path.clone(), dir: 'r', ident: Some(l.ident) };
                drop(l);
                match std::fs::symlink_metadata(&o.path) {
                    Ok(md) if md.file_type().is_socket() => {
                        o.ident = o.ident.filter(|&(d, i)| md.dev() == d && md.ino() == i);
                        if o.ident.is_some() {
                            std::fs::remove_file(&o.path).map_err(|e| os_fail(e, "unlink"))?;
                        }
                        Ok(())
                    }
                    _ => Ok(()),
                }
            }
            _ => Ok(()), // File, UnixStream: closed when dropped
        }
    }

    fn close(&mut self, c: &Cmd) -> R<Reply> {
        let h = c.str("handle")?;
        match self.handles.remove(h) {
            Some(v) => Agent::close_handle(v)?,
            None => return fail("protocol_error", format!("unknown or closed handle '{}'", h)),
        }
        Ok(vec![])
    }

    // -- Channel profile -----------------------------------------------------------------------
    fn listen(&mut self, c: &Cmd) -> R<Reply> {
        let address = c.str("address")?;
        let (key, challenge) = auth_of(c)?;
        let l = UnixListener::bind(address).map_err(|e| os_fail(e, &format!("listen {}", address)))?;
        let md = std::fs::symlink_metadata(address).map_err(|e| os_fail(e, "lstat"))?;
        let ident = (md.dev(), md.ino());
        let listener = Listener { l, path: address.to_string(), ident, key, challenge };
        Ok(vec![("handle", self.add("l", Handle::Listener(listener)))])
    }

    fn accept(&mut self, c: &Cmd) -> R<Reply> {
        let timeout = c.timeout()?;
        let start = Instant::now();
        let (s, key, form) = match self.handle(c, "handle")? {
            Handle::Listener(l) => {
                // UnixListener::accept has no deadline: the deadline forms poll a non-blocking
                // accept with sleeps between tries (README.md).
                let s = match timeout {
                    None => l.l.accept().map_err(|e| os_fail(e, "accept"))?.0,
                    Some(ms) => {
                        l.l.set_nonblocking(true).map_err(|e| os_fail(e, "accept"))?;
                        let r = loop {
                            match l.l.accept() {
                                Ok((s, _)) => break Ok(s),
                                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                                    if start.elapsed() >= Duration::from_millis(ms) {
                                        break fail(if ms == 0 { "would_block" } else { "timeout" }, "no client");
                                    }
                                    std::thread::sleep(Duration::from_millis(2));
                                }
                                Err(e) => break Err(os_fail(e, "accept")),
                            }
                        };
                        let _ = l.l.set_nonblocking(false);
                        r?
                    }
                };
                let _ = s.set_nonblocking(false);
                (s, l.key.clone(), l.challenge.clone())
            }
            _ => return fail("protocol_error", "not a listener handle"),
        };
        let mut conn = Conn { s, buf: Vec::new(), eof: false, read_broken: false, write_broken: false };
        if let Some(k) = key {
            let d = hs_deadline(start, timeout);
            deliver(&mut conn, &k, &form, d)?;
            answer(&mut conn, &k, d)?;
        }
        Ok(vec![("handle", self.add("c", Handle::Conn(conn)))])
    }

    fn connect(&mut self, c: &Cmd) -> R<Reply> {
        let address = c.str("address")?;
        let (key, form) = auth_of(c)?;
        let timeout = c.timeout()?;
        let start = Instant::now();
        // std's UnixStream::connect has no deadline and no non-blocking form; a local connect
        // waits while the listener's queue is full (CHAN-CONNECT-4).
        if timeout.is_some() {
            return fail("unsupported", "UnixStream::connect has no deadline and no non-blocking form");
        }
        let s = UnixStream::connect(address).map_err(|e| os_fail(e, &format!("connect {}", address)))?;
        let mut conn = Conn { s, buf: Vec::new(), eof: false, read_broken: false, write_broken: false };
        if let Some(k) = key {
            let d = hs_deadline(start, timeout);
            answer(&mut conn, &k, d)?;
            deliver(&mut conn, &k, &form, d)?;
        }
        Ok(vec![("handle", self.add("c", Handle::Conn(conn)))])
    }

    fn send(&mut self, c: &Cmd) -> R<Reply> {
        let timeout = c.timeout()?;
        let data = c.payload()?;
        match self.handle(c, "handle")? {
            Handle::Conn(k) => {
                if k.write_broken {
                    return fail(
                        "io_error",
                        "send: an earlier send was cut by its deadline inside a message, so the \
                         connection can send no more",
                    );
                }
                match timeout {
                    None => send_frame(k, &data).map_err(|e| os_fail(e, "send"))?,
                    Some(t) => {
                        let (taken, result) = send_frame_within(k, &frame_of(&data), t);
                        if let Err(e) = result {
                            let mut f = os_fail(e, "send");
                            if f.error == "would_block" || f.error == "timeout" {
                                // Part of the frame went (CHAN-SEND-2): the peer's stream is
                                // inside a message for good.
                                if taken > 0 {
                                    k.write_broken = true;
                                }
                                f.error = if t == 0 { "would_block" } else { "timeout" };
                            }
                            return Err(f);
                        }
                    }
                }
            }
            _ => return fail("protocol_error", "not a connection handle"),
        }
        Ok(vec![("sent", Json::Int(data.len() as i64))])
    }

    fn recv(&mut self, c: &Cmd) -> R<Reply> {
        let timeout = c.timeout()?;
        let max = c.int("max", 0)?;
        let digest = c.boolean("digest")?;
        let k = match self.handle(c, "handle")? {
            Handle::Conn(k) => k,
            _ => return fail("protocol_error", "not a connection handle"),
        };
        if k.read_broken {
            return fail("io_error", "the connection is write-only after a refused message");
        }
        let deadline = timeout.map(|ms| Instant::now() + Duration::from_millis(ms));
        let m = match recv_frame(k, max.map(|m| m as u64), deadline) {
            Err(f) if f.error == "timeout" && timeout == Some(0) => return fail("would_block", f.message),
            r => r?,
        };
        match m {
            None => Ok(vec![("eof", Json::Bool(true))]),
            Some(m) if digest => {
                let mut h = crypto::Sha256::new();
                h.update(&m);
                Ok(vec![("size", Json::Int(m.len() as i64)), ("sha256", Json::Str(crypto::hex(&h.finish())))])
            }
            Some(m) => Ok(vec![("data", Json::Str(crypto::base64_encode(&m)))]),
        }
    }

    fn close_all(&mut self) {
        for (_, h) in self.handles.drain() {
            let _ = Agent::close_handle(h);
        }
    }

    fn dispatch(&mut self, op: &str, c: &Cmd) -> R<Reply> {
        match op {
            "hello" => self.hello(),
            "create" => self.create(c),
            "open" => self.open(c),
            "read" => self.read(c),
            "write" => self.write(c),
            "remove" => self.remove(c, false),
            "release" => self.remove(c, true),
            "close" => self.close(c),
            "listen" => self.listen(c),
            "accept" => self.accept(c),
            "connect" => self.connect(c),
            "send" => self.send(c),
            "recv" => self.recv(c),
            _ => fail("unsupported", format!("unknown op '{}'", op)),
        }
    }
}

fn auth_of(c: &Cmd) -> R<(Option<Vec<u8>>, String)> {
    let form = if c.has("challenge") { c.str("challenge")?.to_string() } else { "sha256".to_string() };
    if form != "sha256" && form != "md5" {
        return fail("protocol_error", "field 'challenge' must be 'sha256' or 'md5'");
    }
    let key = if c.has("authkey") { Some(c.b64("authkey")?) } else { None };
    Ok((key, form))
}

fn hs_deadline(start: Instant, timeout: Option<u64>) -> Instant {
    let d = start + HANDSHAKE;
    match timeout {
        Some(ms) if start + Duration::from_millis(ms) < d => start + Duration::from_millis(ms),
        _ => d,
    }
}

// Reads until `need` bytes are buffered, EOF, or the deadline (then Err timeout).
fn fill(k: &mut Conn, need: usize, deadline: Option<Instant>) -> R<()> {
    let mut chunk = vec![0u8; 65536.max(need.saturating_sub(k.buf.len()).min(1 << 24))];
    while k.buf.len() < need && !k.eof {
        match deadline {
            None => k.s.set_read_timeout(None),
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    // The immediate form still takes what the kernel already has.
                    k.s.set_nonblocking(true).map_err(|e| os_fail(e, "recv"))?;
                    let r = k.s.read(&mut chunk);
                    let _ = k.s.set_nonblocking(false);
                    match r {
                        Ok(0) => k.eof = true,
                        Ok(n) => k.buf.extend_from_slice(&chunk[..n]),
                        Err(e) if e.kind() == ErrorKind::WouldBlock => return fail("timeout", "no whole message before the deadline"),
                        Err(e) if e.kind() == ErrorKind::ConnectionReset => k.eof = true,
                        Err(e) => return Err(os_fail(e, "recv")),
                    }
                    continue;
                }
                k.s.set_read_timeout(Some(d - now))
            }
        }
        .map_err(|e| os_fail(e, "recv"))?;
        match k.s.read(&mut chunk) {
            Ok(0) => k.eof = true,
            Ok(n) => k.buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // A peer that died with bytes unread resets the connection: the end of the stream.
            Err(e) if e.kind() == ErrorKind::ConnectionReset => k.eof = true,
            Err(e) => return Err(os_fail(e, "recv")),
        }
    }
    Ok(())
}

fn recv_frame(k: &mut Conn, max: Option<u64>, deadline: Option<Instant>) -> R<Option<Vec<u8>>> {
    fill(k, 4, deadline)?;
    if k.buf.is_empty() {
        return Ok(None);
    }
    if k.buf.len() < 4 {
        return fail("protocol_error", "end of file inside a message header");
    }
    let n32 = i32::from_be_bytes([k.buf[0], k.buf[1], k.buf[2], k.buf[3]]);
    let (n, hlen) = if n32 == -1 {
        fill(k, 12, deadline)?;
        if k.buf.len() < 12 {
            return fail("protocol_error", "end of file inside a message header");
        }
        let mut b = [0u8; 8];
        b.copy_from_slice(&k.buf[4..12]);
        (u64::from_be_bytes(b), 12)
    } else if n32 < 0 {
        k.read_broken = true;
        return fail("protocol_error", format!("negative message length {}", n32));
    } else {
        (n32 as u64, 4)
    };
    if max.map_or(false, |m| n > m) || n > (1 << 31) {
        k.read_broken = true; // no longer at a message boundary (CHAN-RECV-2)
        return fail("message_too_long", format!("a message of {} bytes", n));
    }
    let total = hlen + n as usize;
    fill(k, total, deadline)?;
    if k.buf.len() < total {
        return fail("protocol_error", "end of file during message");
    }
    let msg = k.buf[hlen..total].to_vec();
    k.buf.drain(..total);
    Ok(Some(msg))
}

fn frame_of(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 12);
    if data.len() <= 0x7fff_ffff {
        out.extend_from_slice(&(data.len() as i32).to_be_bytes());
    } else {
        out.extend_from_slice(&(-1i32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u64).to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

fn send_frame(k: &mut Conn, data: &[u8]) -> io::Result<()> {
    k.s.write_all(&frame_of(data))
}

// One frame by a deadline (CHAN-SEND-1, -2); returns how many of its bytes the kernel took, and
// the error that stopped it. `set_write_timeout` (SO_SNDTIMEO) bounds one wait for buffer room,
// not a whole write, so the frame goes in writes of at most 16 KiB, each given the time left: on
// Linux such a write is one buffer of the socket and waits at most once (unix_stream_sendmsg).
// The immediate form: the same writes on a non-blocking socket (std refuses a zero timeout).
fn send_frame_within(k: &mut Conn, frame: &[u8], timeout_ms: u64) -> (usize, io::Result<()>) {
    const PIECE: usize = 16 * 1024;
    let deadline = Instant::now() + Duration::from_millis(timeout_ms);
    if timeout_ms == 0 {
        if let Err(e) = k.s.set_nonblocking(true) {
            return (0, Err(e));
        }
    }
    let mut taken = 0;
    let mut result = Ok(());
    while taken < frame.len() {
        if timeout_ms > 0 {
            let now = Instant::now();
            if now >= deadline {
                result = Err(io::Error::from(ErrorKind::WouldBlock));
                break;
            }
            if let Err(e) = k.s.set_write_timeout(Some(deadline - now)) {
                result = Err(e);
                break;
            }
        }
        let end = frame.len().min(taken + PIECE);
        match k.s.write(&frame[taken..end]) {
            Ok(n) => taken += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    let _ = k.s.set_nonblocking(false);
    let _ = k.s.set_write_timeout(None);
    (taken, result)
}

fn hs_recv(k: &mut Conn, deadline: Instant) -> R<Vec<u8>> {
    match recv_frame(k, Some(256), Some(deadline)) {
        Ok(Some(m)) => Ok(m),
        Ok(None) => fail("auth_failed", "handshake: the peer closed"),
        Err(f) if f.error == "timeout" => Err(f),
        Err(f) => fail("auth_failed", format!("handshake: {}", f.message)),
    }
}

fn hs_send(k: &mut Conn, b: &[u8]) -> R<()> {
    send_frame(k, b).map_err(|e| Fail { error: "auth_failed", message: format!("handshake: {}", e), native: None })
}

// "{name}" + rest -> (name, rest, true); otherwise ("md5", all, false).
fn split_digest(b: &[u8]) -> R<(String, &[u8], bool)> {
    if b.first() == Some(&b'{') {
        if let Some(end) = b.iter().take(22).position(|&c| c == b'}') {
            let name = String::from_utf8_lossy(&b[1..end]).to_string();
            if crypto::hmac(&name, b"", b"").is_none() {
                return fail("auth_failed", format!("unknown digest {{{}}}", name));
            }
            return Ok((name, &b[end + 1..], true));
        }
        return fail("auth_failed", "malformed {digest} prefix");
    }
    Ok(("md5".to_string(), b, false))
}

fn deliver(k: &mut Conn, key: &[u8], form: &str, deadline: Instant) -> R<()> {
    let msg = if form == "md5" {
        crypto::random_bytes(20)
    } else {
        let mut m = b"{sha256}".to_vec();
        m.extend(crypto::random_bytes(40));
        m
    };
    let mut frame = b"#CHALLENGE#".to_vec();
    frame.extend_from_slice(&msg);
    hs_send(k, &frame)?;
    let answer = hs_recv(k, deadline)?;
    let ok = if answer.len() == 16 {
        crypto::ct_eq(&answer, &crypto::hmac("md5", key, &msg).unwrap())
    } else {
        match split_digest(&answer) {
            Ok((name, mac, true)) => crypto::ct_eq(mac, &crypto::hmac(&name, key, &msg).unwrap()),
            _ => false,
        }
    };
    if !ok {
        let _ = send_frame(k, b"#FAILURE#");
        return fail("auth_failed", "digest received was wrong");
    }
    hs_send(k, b"#WELCOME#")
}

fn answer(k: &mut Conn, key: &[u8], deadline: Instant) -> R<()> {
    let m = hs_recv(k, deadline)?;
    if !m.starts_with(b"#CHALLENGE#") {
        return fail("auth_failed", "not a #CHALLENGE# message");
    }
    let msg = &m[11..];
    // A 20-byte message is the legacy form whatever its first byte (random bytes may start with
    // '{'), as CPython 3.12's _get_digest_name_and_payload decides by length first.
    let (name, rest, prefixed) = if msg.len() == 20 { ("md5".to_string(), msg, false) } else { split_digest(msg)? };
    if rest.len() < 20 {
        return fail("auth_failed", "challenge too short");
    }
    let mac = crypto::hmac(&name, key, msg).unwrap();
    let reply = if prefixed {
        let mut r = format!("{{{}}}", name).into_bytes();
        r.extend(mac);
        r
    } else {
        mac
    };
    hs_send(k, &reply)?;
    if hs_recv(k, deadline)? != b"#WELCOME#" {
        return fail("auth_failed", "digest sent was rejected");
    }
    Ok(())
}

fn main() {
    // Rust's runtime already ignores SIGPIPE before main (README.md): writes get EPIPE.
    if std::env::args().nth(1).as_deref() == Some("--self-test") {
        match crypto::self_test() {
            Ok(()) => println!("crypto self-test: ok"),
            Err(e) => {
                eprintln!("crypto self-test failed: {}", e);
                std::process::exit(1);
            }
        }
        return;
    }
    let mut agent = Agent { handles: HashMap::new(), counter: 0 };
    let stdin = io::stdin();
    let stdout = io::stdout();
    for line in stdin.lock().lines() {
        let line = match line {
            Ok(l) => l,
            Err(_) => break,
        };
        if line.trim().is_empty() {
            continue;
        }
        let mut id = Json::Null;
        let mut bye = false;
        let result: R<Reply> = (|| {
            let doc = match json::parse(&line) {
                Ok(d) => d,
                Err(e) => return fail("protocol_error", format!("line: not JSON: {}", e)),
            };
            if !matches!(doc, Json::Obj(_)) {
                return fail("protocol_error", "line: a JSON object expected");
            }
            if let Some(v) = doc.get("id") {
                id = v.clone();
            }
            let c = Cmd(&doc);
            if c.int("id", i64::MIN)?.is_none() {
                return fail("protocol_error", "missing field 'id'");
            }
            let op = c.str("op")?;
            if op == "bye" {
                agent.close_all();
                bye = true;
                return Ok(vec![]);
            }
            agent.dispatch(op, &c)
        })();
        let mut reply: Reply = vec![("id", id)];
        match result {
            Ok(r) => {
                reply.push(("ok", Json::Bool(true)));
                reply.extend(r);
            }
            Err(f) => {
                reply.push(("ok", Json::Bool(false)));
                reply.push(("error", Json::Str(f.error.into())));
                reply.push(("message", Json::Str(f.message)));
                if let Some(n) = f.native {
                    reply.push(("native", Json::Str(n)));
                }
            }
        }
        let mut out = stdout.lock();
        let _ = writeln!(out, "{}", pairs(reply).dump());
        let _ = out.flush();
        if bye {
            break;
        }
    }
    agent.close_all();
}
