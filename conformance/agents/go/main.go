// Command npipe-agent-go: the npipe driver protocol (spec/driver-protocol.md) for Go, written
// from that page and spec/npipe.md. Standard library only: syscall.Mkfifo, os.OpenFile and the
// runtime poller's deadlines on FIFOs, net.Listen("unix") / net.Dial("unix") for channels, and
// crypto/hmac for multiprocessing.connection's handshake (written here: Go has none).
// What Go cannot do is answered `unsupported` (README.md lists each case and why).
package main

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"net"
	"os"
	"runtime"
	"syscall"
	"time"
)

var ops = []string{"hello", "bye", "create", "open", "read", "write", "remove", "release", "close",
	"listen", "accept", "connect", "send", "recv"}

const handshakeLimit = 10 * time.Second // CHAN-AUTH-8's default

type fail struct{ name, msg, native string }

func (f *fail) Error() string { return f.msg }
func failf(name, format string, a ...interface{}) *fail {
	return &fail{name: name, msg: fmt.Sprintf(format, a...)}
}

var errnoNames = map[syscall.Errno]string{
	syscall.ENOENT: "not_found", syscall.ENOTDIR: "not_found", syscall.ECONNREFUSED: "not_found",
	syscall.EEXIST: "already_exists", syscall.EADDRINUSE: "already_exists",
	syscall.EAGAIN: "would_block", syscall.ENXIO: "would_block", syscall.EPIPE: "broken_pipe",
	syscall.ECONNRESET: "broken_pipe", syscall.EACCES: "permission_denied",
	syscall.EPERM: "permission_denied", syscall.ENAMETOOLONG: "invalid_name",
	syscall.ELOOP: "not_a_pipe", syscall.EISDIR: "not_a_pipe", syscall.ENOTSOCK: "not_a_pipe",
	syscall.ETIMEDOUT: "timeout", syscall.EINVAL: "invalid_name",
}

// osFail maps an error of Go's os/net/syscall packages to the portable vocabulary.
func osFail(err error, what string) *fail {
	var f *fail
	if errors.As(err, &f) {
		return f
	}
	var ne net.Error
	var eagain syscall.Errno
	isEagain := errors.As(err, &eagain) && eagain == syscall.EAGAIN
	if errors.Is(err, os.ErrDeadlineExceeded) || (!isEagain && errors.As(err, &ne) && ne.Timeout()) {
		return &fail{"timeout", what + ": " + err.Error(), "ErrDeadlineExceeded"}
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		name, ok := errnoNames[errno]
		if !ok {
			name = "io_error"
		}
		return &fail{name, what + ": " + err.Error(), fmt.Sprintf("errno %d", int(errno))}
	}
	return &fail{"io_error", what + ": " + err.Error(), fmt.Sprintf("%T", err)}
}

// -- command fields ---------------------------------------------------------------------------
type command map[string]interface{}

func (c command) has(k string) bool { _, ok := c[k]; return ok }

func (c command) str(k string, required bool) (string, bool) {
	v, ok := c[k]
	if !ok {
		if required {
			panic(failf("protocol_error", "missing field '%s'", k))
		}
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		panic(failf("protocol_error", "field '%s' must be a string", k))
	}
	return s, true
}

func (c command) integer(k string, required bool, min int64) (int64, bool) {
	v, ok := c[k]
	if !ok {
		if required {
			panic(failf("protocol_error", "missing field '%s'", k))
		}
		return 0, false
	}
	n, isNum := v.(json.Number)
	i, err := n.Int64()
	if !isNum || err != nil {
		panic(failf("protocol_error", "field '%s' must be an integer", k))
	}
	if i < min {
		panic(failf("protocol_error", "field '%s' must be at least %d", k, min))
	}
	return i, true
}

func (c command) boolean(k string) bool {
	v, ok := c[k]
	if !ok {
		return false
	}
	b, ok := v.(bool)
	if !ok {
		panic(failf("protocol_error", "field '%s' must be true or false", k))
	}
	return b
}

func (c command) dir() string {
	d, _ := c.str("dir", true)
	if d != "r" && d != "w" {
		panic(failf("protocol_error", "field 'dir' must be 'r' or 'w'"))
	}
	return d
}

func (c command) b64(k string) []byte {
	s, _ := c.str(k, true)
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		panic(failf("protocol_error", "field '%s' is not base64", k))
	}
	return b
}

func patternBytes(size int64, seed int64) []byte {
	out := make([]byte, size)
	for i := int64(0); i < size; i++ {
		out[i] = byte((seed + i%251) % 256)
	}
	return out
}

func (c command) payload() []byte {
	if p, ok := c["pattern"]; ok {
		m, ok := p.(map[string]interface{})
		if !ok {
			panic(failf("protocol_error", "field 'pattern' must be an object"))
		}
		pc := command(m)
		size, _ := pc.integer("size", true, 0)
		seed, _ := pc.integer("seed", false, 0)
		if seed > 255 || size > 1<<31 {
			panic(failf("protocol_error", "pattern out of range"))
		}
		return patternBytes(size, seed)
	}
	return c.b64("data")
}

// timeout: -1 for the blocking form.
func (c command) timeout() int64 {
	t, ok := c.integer("timeout_ms", false, 0)
	if !ok {
		return -1
	}
	return t
}

// Names go to Go as given (NAME-2): what Go does with an empty name or a NUL byte is what the
// suite sees (NAME-3).

// -- handles ----------------------------------------------------------------------------------
type owner struct {
	path     string
	dir      string
	dev, ino uint64
	owns     bool
}
type end struct {
	f   *os.File
	dir string
}
type listener struct {
	l         *net.UnixListener
	key       []byte
	challenge string
}
type conn struct {
	c           *net.UnixConn
	r           *bufio.Reader
	readBroken  bool
	writeBroken bool // a send's deadline cut a message: nothing after it could be parsed
}

var handles = map[string]interface{}{}
var counter int

func newHandle(prefix string, v interface{}) string {
	counter++
	h := fmt.Sprintf("%s%d", prefix, counter)
	handles[h] = v
	return h
}

func get[T any](c command, key string) (string, T) {
	h, _ := c.str(key, true)
	v, ok := handles[h].(T)
	if !ok {
		panic(failf("protocol_error", "unknown, closed or wrong kind of handle '%s'", h))
	}
	return h, v
}

// -- FIFO profile -----------------------------------------------------------------------------
func opCreate(c command) map[string]interface{} {
	path, _ := c.str("name", true)
	d := c.dir()
	mode, hasMode := c.integer("mode", false, 0)
	if !hasMode {
		mode = 0o600
	}
	if c.boolean("adopt") {
		var st syscall.Stat_t
		err := syscall.Lstat(path, &st)
		if err == nil {
			if st.Mode&syscall.S_IFMT != syscall.S_IFIFO {
				panic(failf("not_a_pipe", "%s exists and is not a FIFO", path))
			}
			if st.Uid != uint32(os.Geteuid()) {
				panic(failf("permission_denied", "%s belongs to uid %d", path, st.Uid))
			}
			return map[string]interface{}{"handle": newHandle("o", &owner{path, d, st.Dev, st.Ino, true})}
		} else if err != syscall.ENOENT {
			panic(osFail(err, "lstat "+path))
		}
	}
	if err := syscall.Mkfifo(path, uint32(mode)); err != nil {
		panic(osFail(err, "mkfifo "+path))
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		panic(osFail(err, "lstat "+path))
	}
	// mkfifo applied the umask: os.Chmod follows a symlink, so the mode is set only on the
	// inode just made (FIFO-CREATE-2, FIFO-SEC-5). A symlink swapped in between is the
	// race the reference closes with fchmodat(AT_SYMLINK_NOFOLLOW), which syscall lacks.
	if st.Mode&0o7777 != uint32(mode) {
		if err := os.Chmod(path, os.FileMode(mode)&os.ModePerm); err != nil {
			panic(osFail(err, "chmod "+path))
		}
	}
	return map[string]interface{}{"handle": newHandle("o", &owner{path, d, st.Dev, st.Ino, true})}
}

func openFifo(path, d string, timeout int64) *os.File {
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		panic(osFail(err, "lstat "+path))
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFIFO {
		panic(failf("not_a_pipe", "%s is not a FIFO", path))
	}
	flags := syscall.O_NOFOLLOW | syscall.O_CLOEXEC
	if d == "r" {
		flags |= os.O_RDONLY
	} else {
		flags |= os.O_WRONLY
	}
	var f *os.File
	var err error
	switch {
	case timeout < 0:
		f, err = os.OpenFile(path, flags, 0)
	case timeout == 0:
		f, err = os.OpenFile(path, flags|syscall.O_NONBLOCK, 0)
	case d == "w":
		// A write open with a deadline: a non-blocking open retried until a reader is there
		// (ENXIO until then), as FIFO-OPEN-3 allows.
		deadline := time.Now().Add(time.Duration(timeout) * time.Millisecond)
		for {
			f, err = os.OpenFile(path, flags|syscall.O_NONBLOCK, 0)
			if err == nil || !errors.Is(err, syscall.ENXIO) {
				break
			}
			if !time.Now().Before(deadline) {
				panic(&fail{"timeout", "no reader came before the deadline", "ENXIO"})
			}
			time.Sleep(5 * time.Millisecond)
		}
	default:
		f, err = openReadWithDeadline(path, flags, time.Duration(timeout)*time.Millisecond)
	}
	if err != nil {
		panic(osFail(err, "open "+path))
	}
	fst, err := f.Stat()
	if err != nil || fst.Mode()&os.ModeNamedPipe == 0 {
		f.Close()
		panic(failf("not_a_pipe", "%s is not a FIFO", path))
	}
	return f
}

// A read open with a deadline: the blocking open runs in a goroutine; when the deadline
// passes, the agent opens the write side itself (non-blocking: the waiting reader counts),
// which completes the blocked open; both are closed and the answer is timeout. No goroutine is
// left blocked, nothing stays open (FIFO-OPEN-3).
func openReadWithDeadline(path string, flags int, limit time.Duration) (*os.File, error) {
	type result struct {
		f   *os.File
		err error
	}
	done := make(chan result, 1)
	go func() {
		f, err := os.OpenFile(path, flags, 0)
		done <- result{f, err}
	}()
	select {
	case r := <-done:
		return r.f, r.err
	case <-time.After(limit):
	}
	w, werr := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	r := <-done
	if werr == nil {
		w.Close()
	}
	if r.f != nil {
		r.f.Close()
	}
	return nil, &fail{"timeout", "no writer came before the deadline", ""}
}

func opOpen(c command) map[string]interface{} {
	timeout := c.timeout()
	var path, d string
	if c.has("owner") {
		_, o := get[*owner](c, "owner")
		d = c.dir()
		if d != o.dir {
			panic(failf("protocol_error", "the owner was created for the '%s' end", o.dir))
		}
		path = o.path
	} else {
		path, _ = c.str("name", true)
		d = c.dir()
	}
	return map[string]interface{}{"handle": newHandle("h", &end{openFifo(path, d, timeout), d})}
}

// tryOnce does one non-blocking system call on the poller's descriptor: the immediate form.
func tryOnce(f *os.File, read bool, buf []byte) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var serr error
	fn := func(fd uintptr) bool {
		if read {
			n, serr = syscall.Read(int(fd), buf)
		} else {
			n, serr = syscall.Write(int(fd), buf)
		}
		return true
	}
	if read {
		err = rc.Read(fn)
	} else {
		err = rc.Write(fn)
	}
	if err != nil {
		return 0, err
	}
	if n < 0 {
		n = 0
	}
	return n, serr
}

func readOnce(e *end, max int64, timeout int64) ([]byte, error) {
	buf := make([]byte, max)
	if timeout == 0 {
		n, err := tryOnce(e.f, true, buf)
		if err == syscall.EAGAIN {
			return nil, &fail{"would_block", "no data", "EAGAIN"}
		}
		return buf[:n], err
	}
	if timeout > 0 {
		e.f.SetReadDeadline(time.Now().Add(time.Duration(timeout) * time.Millisecond))
		defer e.f.SetReadDeadline(time.Time{})
	}
	n, err := e.f.Read(buf)
	if err == io.EOF {
		return nil, nil
	}
	return buf[:n], err
}

func opRead(c command) map[string]interface{} {
	_, e := get[*end](c, "handle")
	if e.dir != "r" {
		panic(failf("protocol_error", "not a read end"))
	}
	timeout := c.timeout()
	max, ok := c.integer("max", false, 1)
	if !ok {
		max = 65536
	}
	if c.boolean("digest") {
		if timeout > 0 {
			e.f.SetReadDeadline(time.Now().Add(time.Duration(timeout) * time.Millisecond))
			defer e.f.SetReadDeadline(time.Time{})
		}
		h := sha256.New()
		n, err := io.Copy(h, e.f)
		if err != nil {
			panic(osFail(err, "read"))
		}
		return map[string]interface{}{"size": n, "sha256": hex.EncodeToString(h.Sum(nil)), "eof": true}
	}
	data, err := readOnce(e, max, timeout)
	if err != nil {
		panic(osFail(err, "read"))
	}
	if len(data) == 0 {
		return map[string]interface{}{"eof": true}
	}
	return map[string]interface{}{"data": base64.StdEncoding.EncodeToString(data)}
}

func opWrite(c command) map[string]interface{} {
	_, e := get[*end](c, "handle")
	if e.dir != "w" {
		panic(failf("protocol_error", "not a write end"))
	}
	timeout := c.timeout()
	repeat, ok := c.integer("repeat", false, 1)
	if !ok {
		repeat = 1
	}
	data := c.payload()
	var written int64
	if len(data) == 0 {
		return map[string]interface{}{"written": 0} // never handed to the system (FIFO-IO-8)
	}
	if timeout == 0 {
		for i := int64(0); i < repeat; i++ {
			for off := 0; off < len(data); {
				n, err := tryOnce(e.f, false, data[off:])
				written += int64(n)
				off += n
				if err == syscall.EAGAIN {
					if written > 0 {
						return map[string]interface{}{"written": written}
					}
					panic(&fail{"would_block", "the FIFO is full", "EAGAIN"})
				}
				if err != nil {
					panic(osFail(err, "write"))
				}
			}
		}
		return map[string]interface{}{"written": written}
	}
	if timeout > 0 {
		e.f.SetWriteDeadline(time.Now().Add(time.Duration(timeout) * time.Millisecond))
		defer e.f.SetWriteDeadline(time.Time{})
	}
	for i := int64(0); i < repeat; i++ {
		n, err := e.f.Write(data)
		written += int64(n)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && written > 0 {
				return map[string]interface{}{"written": written} // FIFO-IO-6
			}
			panic(osFail(err, "write"))
		}
	}
	return map[string]interface{}{"written": written}
}

func removeIfOurs(o *owner) {
	if !o.owns {
		return
	}
	o.owns = false
	var st syscall.Stat_t
	if err := syscall.Lstat(o.path, &st); err != nil {
		if err != syscall.ENOENT {
			panic(osFail(err, "lstat "+o.path))
		}
		return
	}
	if st.Mode&syscall.S_IFMT == syscall.S_IFIFO && st.Dev == o.dev && st.Ino == o.ino {
		if err := syscall.Unlink(o.path); err != nil && err != syscall.ENOENT {
			panic(osFail(err, "unlink "+o.path))
		}
	}
}

func opRemove(c command) map[string]interface{} {
	_, o := get[*owner](c, "handle")
	removeIfOurs(o)
	return map[string]interface{}{}
}

func opRelease(c command) map[string]interface{} {
	_, o := get[*owner](c, "handle")
	o.owns = false
	return map[string]interface{}{}
}

func closeValue(v interface{}) {
	switch x := v.(type) {
	case *owner:
		removeIfOurs(x)
	case *end:
		x.f.Close()
	case *listener:
		x.l.Close() // net.UnixListener removes its socket file (README.md)
	case *conn:
		x.c.Close()
	}
}

func opClose(c command) map[string]interface{} {
	h, _ := c.str("handle", true)
	v, ok := handles[h]
	if !ok {
		panic(failf("protocol_error", "unknown or closed handle '%s'", h))
	}
	delete(handles, h)
	closeValue(v)
	return map[string]interface{}{}
}

// -- Channel profile --------------------------------------------------------------------------
var digests = map[string]func() hash.Hash{"md5": md5.New, "sha256": sha256.New, "sha384": sha512.New384}

func hmacOf(name string, key, msg []byte) []byte {
	m := hmac.New(digests[name], key)
	m.Write(msg)
	return m.Sum(nil)
}

type frameResult struct {
	data []byte
	eof  bool
}

// recvFrame reads one message; deadline zero: none.
func recvFrame(cn *conn, max int64, deadline time.Time) frameResult {
	cn.c.SetReadDeadline(deadline)
	defer cn.c.SetReadDeadline(time.Time{})
	if _, err := cn.r.Peek(1); err != nil {
		if err == io.EOF || errors.Is(err, syscall.ECONNRESET) {
			return frameResult{eof: true} // between messages (CHAN-EOF-1, CHAN-LIFE-2)
		}
		panic(osFail(err, "recv"))
	}
	head, err := cn.r.Peek(4)
	if err != nil {
		panic(frameErr(err))
	}
	n := int64(int32(binary.BigEndian.Uint32(head)))
	hlen := 4
	if n == -1 {
		h, err := cn.r.Peek(12)
		if err != nil {
			panic(frameErr(err))
		}
		u := binary.BigEndian.Uint64(h[4:])
		if u > math.MaxInt32*4 {
			cn.readBroken = true
			panic(failf("message_too_long", "a message of %d bytes", u))
		}
		n, hlen = int64(u), 12
	} else if n < 0 {
		cn.readBroken = true
		panic(failf("protocol_error", "negative message length %d", n))
	}
	if max >= 0 && n > max {
		cn.readBroken = true // no longer at a message boundary (CHAN-RECV-2)
		panic(failf("message_too_long", "a message of %d bytes, maxlength %d", n, max))
	}
	// Peek keeps a partial message in the buffer: a deadline inside it loses nothing.
	if int64(cn.r.Size()) < int64(hlen)+n {
		cn.r = bufio.NewReaderSize(cn.r, hlen+int(n))
	}
	if _, err := cn.r.Peek(hlen + int(n)); err != nil {
		panic(frameErr(err))
	}
	cn.r.Discard(hlen)
	out := make([]byte, n)
	io.ReadFull(cn.r, out)
	return frameResult{data: out}
}

func frameErr(err error) *fail {
	if err == io.EOF || err == io.ErrUnexpectedEOF || errors.Is(err, syscall.ECONNRESET) {
		return failf("protocol_error", "end of file during message")
	}
	return osFail(err, "recv")
}

func frameOf(data []byte) []byte {
	var head []byte
	if len(data) <= math.MaxInt32 {
		head = binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	} else {
		head = binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(nil, 0xffffffff), uint64(len(data)))
	}
	return append(head, data...)
}

func sendFrame(cn *conn, data []byte) error {
	_, err := cn.c.Write(frameOf(data))
	return err
}

// sendFrameWithin sends one frame by a deadline (CHAN-SEND-1, -2) and returns how many of its
// bytes the kernel took. timeout > 0: SetWriteDeadline, and Write returns the count written when
// the deadline passes (ErrDeadlineExceeded). timeout 0: one non-blocking write(2) on the poller's
// descriptor, since a deadline of "now" would refuse without trying.
func sendFrameWithin(cn *conn, frame []byte, timeout int64) (int, error) {
	if timeout > 0 {
		cn.c.SetWriteDeadline(time.Now().Add(time.Duration(timeout) * time.Millisecond))
		defer cn.c.SetWriteDeadline(time.Time{})
		return cn.c.Write(frame)
	}
	rc, err := cn.c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var serr error
	if err := rc.Write(func(fd uintptr) bool {
		n, serr = syscall.Write(int(fd), frame)
		return true
	}); err != nil {
		return 0, err
	}
	if n < 0 {
		n = 0
	}
	if serr == syscall.EAGAIN {
		return n, &fail{"would_block", "send: the socket buffer is full", "EAGAIN"}
	}
	if serr == nil && n < len(frame) {
		return n, &fail{"would_block", "send: the socket buffer took part of the message", ""}
	}
	return n, serr
}

var (
	challengePrefix = []byte("#CHALLENGE#")
	welcome         = []byte("#WELCOME#")
	failure         = []byte("#FAILURE#")
)

func hsRecv(cn *conn, deadline time.Time) []byte {
	var r frameResult
	func() {
		defer func() {
			if x := recover(); x != nil {
				f, ok := x.(*fail)
				if !ok {
					panic(x)
				}
				if f.name != "timeout" {
					f = &fail{"auth_failed", "handshake: " + f.msg, f.native}
				}
				panic(f)
			}
		}()
		r = recvFrame(cn, 256, deadline)
	}()
	if r.eof {
		panic(failf("auth_failed", "handshake: the peer closed"))
	}
	return r.data
}

func hsSend(cn *conn, b []byte) {
	if err := sendFrame(cn, b); err != nil {
		panic(failf("auth_failed", "handshake: %v", err))
	}
}

// splitDigest: "{name}" + rest -> name, rest, true; otherwise "md5", all, false.
func splitDigest(b []byte) (string, []byte, bool) {
	if len(b) > 0 && b[0] == '{' {
		end := bytes.IndexByte(b, '}')
		if end < 1 || end > 21 {
			panic(failf("auth_failed", "malformed {digest} prefix"))
		}
		name := string(b[1:end])
		if _, ok := digests[name]; !ok {
			panic(failf("auth_failed", "digest {%s} unknown to Go's standard library", name))
		}
		return name, b[end+1:], true
	}
	return "md5", b, false
}

func deliverChallenge(cn *conn, key []byte, form string, deadline time.Time) {
	var msg []byte
	if form == "md5" {
		msg = make([]byte, 20)
		rand.Read(msg)
	} else {
		r := make([]byte, 40)
		rand.Read(r)
		msg = append([]byte("{sha256}"), r...)
	}
	hsSend(cn, append(append([]byte{}, challengePrefix...), msg...))
	answer := hsRecv(cn, deadline)
	ok := false
	if len(answer) == 16 {
		ok = hmac.Equal(answer, hmacOf("md5", key, msg))
	} else if len(answer) > 0 && answer[0] == '{' {
		func() {
			defer func() { recover() }()
			name, mac, _ := splitDigest(answer)
			ok = subtle.ConstantTimeCompare(mac, hmacOf(name, key, msg)) == 1
		}()
	}
	if !ok {
		sendFrame(cn, failure)
		panic(failf("auth_failed", "digest received was wrong"))
	}
	hsSend(cn, welcome)
}

func answerChallenge(cn *conn, key []byte, deadline time.Time) {
	m := hsRecv(cn, deadline)
	if !bytes.HasPrefix(m, challengePrefix) {
		panic(failf("auth_failed", "not a #CHALLENGE# message"))
	}
	msg := m[len(challengePrefix):]
	// A 20-byte message is the legacy form whatever its first byte (random bytes may start with
	// '{'), as CPython 3.12's _get_digest_name_and_payload decides by length first.
	name, rest, prefixed := "md5", msg, false
	if len(msg) != 20 {
		name, rest, prefixed = splitDigest(msg)
	}
	if len(rest) < 20 {
		panic(failf("auth_failed", "challenge too short"))
	}
	if prefixed {
		hsSend(cn, append([]byte("{"+name+"}"), hmacOf(name, key, msg)...))
	} else {
		hsSend(cn, hmacOf("md5", key, msg))
	}
	if v := hsRecv(cn, deadline); !bytes.Equal(v, welcome) {
		panic(failf("auth_failed", "digest sent was rejected"))
	}
}

func authOf(c command) ([]byte, string) {
	form, ok := c.str("challenge", false)
	if !ok {
		form = "sha256"
	}
	if form != "sha256" && form != "md5" {
		panic(failf("protocol_error", "field 'challenge' must be 'sha256' or 'md5'"))
	}
	if !c.has("authkey") {
		return nil, form
	}
	return c.b64("authkey"), form
}

func handshakeDeadline(start time.Time, timeout int64) time.Time {
	d := start.Add(handshakeLimit)
	if timeout >= 0 {
		if t := start.Add(time.Duration(timeout) * time.Millisecond); t.Before(d) {
			d = t
		}
	}
	return d
}

func opListen(c command) map[string]interface{} {
	address, _ := c.str("address", true)
	key, form := authOf(c)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: address, Net: "unix"})
	if err != nil {
		panic(osFail(err, "listen "+address))
	}
	return map[string]interface{}{"handle": newHandle("l", &listener{l, key, form})}
}

func opAccept(c command) map[string]interface{} {
	_, l := get[*listener](c, "handle")
	timeout := c.timeout()
	start := time.Now()
	if timeout >= 0 {
		l.l.SetDeadline(start.Add(time.Duration(timeout) * time.Millisecond))
		defer l.l.SetDeadline(time.Time{})
	}
	uc, err := l.l.AcceptUnix()
	if err != nil {
		f := osFail(err, "accept")
		if f.name == "timeout" && timeout == 0 {
			f.name = "would_block"
		}
		panic(f)
	}
	cn := &conn{c: uc, r: bufio.NewReaderSize(uc, 65536)}
	if l.key != nil {
		d := handshakeDeadline(start, timeout)
		func() {
			defer func() {
				if x := recover(); x != nil {
					uc.Close()
					panic(x)
				}
			}()
			deliverChallenge(cn, l.key, l.challenge, d)
			answerChallenge(cn, l.key, d)
		}()
	}
	return map[string]interface{}{"handle": newHandle("c", cn)}
}

func opConnect(c command) map[string]interface{} {
	address, _ := c.str("address", true)
	key, form := authOf(c)
	timeout := c.timeout()
	start := time.Now()
	d := net.Dialer{}
	if timeout >= 0 {
		d.Deadline = start.Add(time.Duration(timeout) * time.Millisecond)
	}
	nc, err := d.Dial("unix", address)
	if err != nil {
		f := osFail(err, "connect "+address)
		if f.name == "timeout" && timeout == 0 {
			f.name = "would_block"
		}
		panic(f)
	}
	uc := nc.(*net.UnixConn)
	cn := &conn{c: uc, r: bufio.NewReaderSize(uc, 65536)}
	if key != nil {
		hd := handshakeDeadline(start, timeout)
		func() {
			defer func() {
				if x := recover(); x != nil {
					uc.Close()
					panic(x)
				}
			}()
			answerChallenge(cn, key, hd)
			deliverChallenge(cn, key, form, hd)
		}()
	}
	return map[string]interface{}{"handle": newHandle("c", cn)}
}

func opSend(c command) map[string]interface{} {
	_, cn := get[*conn](c, "handle")
	timeout := c.timeout()
	data := c.payload()
	if cn.writeBroken {
		panic(failf("io_error", "send: an earlier send was cut by its deadline inside a message, "+
			"so the connection can send no more"))
	}
	if timeout < 0 {
		if err := sendFrame(cn, data); err != nil {
			panic(osFail(err, "send"))
		}
		return map[string]interface{}{"sent": len(data)}
	}
	n, err := sendFrameWithin(cn, frameOf(data), timeout)
	if err != nil {
		f := osFail(err, "send")
		if f.name == "timeout" || f.name == "would_block" {
			if timeout == 0 {
				f.name = "would_block"
			}
			// Part of the frame went (CHAN-SEND-2): the peer's stream is inside a message for good.
			if n > 0 {
				cn.writeBroken = true
			}
		}
		panic(f)
	}
	return map[string]interface{}{"sent": len(data)}
}

func opRecv(c command) map[string]interface{} {
	_, cn := get[*conn](c, "handle")
	timeout := c.timeout()
	max, ok := c.integer("max", false, 0)
	if !ok {
		max = -1
	}
	if cn.readBroken {
		panic(failf("io_error", "the connection is write-only after a refused message"))
	}
	var deadline time.Time
	if timeout >= 0 {
		deadline = time.Now().Add(time.Duration(timeout) * time.Millisecond)
	}
	var r frameResult
	func() {
		defer func() {
			if x := recover(); x != nil {
				if f, ok := x.(*fail); ok && f.name == "timeout" && timeout == 0 {
					f.name = "would_block"
				}
				panic(x)
			}
		}()
		r = recvFrame(cn, max, deadline)
	}()
	if r.eof {
		return map[string]interface{}{"eof": true}
	}
	if c.boolean("digest") {
		sum := sha256.Sum256(r.data)
		return map[string]interface{}{"size": len(r.data), "sha256": hex.EncodeToString(sum[:])}
	}
	return map[string]interface{}{"data": base64.StdEncoding.EncodeToString(r.data)}
}

func opHello(c command) map[string]interface{} {
	return map[string]interface{}{"protocol": 1, "impl": "go", "version": runtime.Version(),
		"platform": runtime.GOOS, "profiles": []string{"fifo", "channel"}, "ops": ops}
}

var handlers = map[string]func(command) map[string]interface{}{
	"hello": opHello, "create": opCreate, "open": opOpen, "read": opRead, "write": opWrite,
	"remove": opRemove, "release": opRelease, "close": opClose, "listen": opListen,
	"accept": opAccept, "connect": opConnect, "send": opSend, "recv": opRecv,
}

func closeAll() {
	for h, v := range handles {
		delete(handles, h)
		func() { defer func() { recover() }(); closeValue(v) }()
	}
}

// run executes one line; it reports whether the session ends (bye).
func run(line []byte, out *bufio.Writer) (bye bool) {
	reply := map[string]interface{}{"id": nil, "ok": true}
	defer func() {
		if x := recover(); x != nil {
			f, ok := x.(*fail)
			if !ok {
				f = &fail{"io_error", fmt.Sprint(x), "panic"}
			}
			reply = map[string]interface{}{"id": reply["id"], "ok": false, "error": f.name, "message": f.msg}
			if f.native != "" {
				reply["native"] = f.native
			}
		}
		b, _ := json.Marshal(reply)
		out.Write(append(b, '\n'))
		out.Flush()
	}()
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var v interface{}
	if err := dec.Decode(&v); err != nil {
		panic(failf("protocol_error", "line: not JSON: %v", err))
	}
	cmd, ok := v.(map[string]interface{})
	if !ok {
		panic(failf("protocol_error", "line: a JSON object expected"))
	}
	c := command(cmd)
	if id, ok := cmd["id"]; ok {
		reply["id"] = id
	}
	c.integer("id", true, math.MinInt64)
	op, _ := c.str("op", true)
	if op == "bye" {
		closeAll()
		return true
	}
	h, ok := handlers[op]
	if !ok {
		panic(failf("unsupported", "unknown op '%s'", op))
	}
	for k, val := range h(c) {
		reply[k] = val
	}
	return false
}

func main() {
	// The runtime's poller (an epoll descriptor and its wake-up pipe) starts with the first
	// pollable file: started here, so that a timed-out open is not seen to leave descriptors
	// behind (FIFO-OPEN-3 counts them).
	if r, w, err := os.Pipe(); err == nil {
		r.SetReadDeadline(time.Now())
		r.Close()
		w.Close()
	}
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriter(os.Stdout)
	for {
		line, err := in.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			if run(line, out) {
				break
			}
		}
		if err != nil {
			break
		}
	}
	closeAll()
}
