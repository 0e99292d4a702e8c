// npipe agent for Java 17: spec/driver-protocol.md, written from that page and spec/npipe.md.
// Only the JDK: FileChannel on FIFOs, NIO UnixDomainSocketAddress + ServerSocketChannel /
// SocketChannel (non-blocking, with a Selector for deadlines) on AF_UNIX, javax.crypto.Mac for
// multiprocessing.connection's handshake (written here: the JDK has none), and a small JSON
// reader (the JDK has none). What Java cannot do is answered `unsupported` (README.md).
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.BindException;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

public final class Agent {
  static final List<String> OPS = List.of("hello", "bye", "create", "open", "read", "write",
      "remove", "release", "close", "listen", "accept", "connect", "send", "recv");
  static final long HANDSHAKE_MS = 10_000; // CHAN-AUTH-8's default
  static final Map<String, String> MACS = Map.of("md5", "HmacMD5", "sha256", "HmacSHA256",
      "sha384", "HmacSHA384", "sha3_256", "HmacSHA3-256", "sha3_384", "HmacSHA3-384");
  static final SecureRandom RANDOM = new SecureRandom();

  static final class Fail extends RuntimeException {
    final String error;
    final String nativeName;
    Fail(String error, String message) { this(error, message, null); }
    Fail(String error, String message, String nativeName) {
      super(message);
      this.error = error;
      this.nativeName = nativeName;
    }
  }

  // An exception of the JDK -> the portable vocabulary (the JDK gives no errno: the class and,
  // for a few SocketExceptions, the message text are all there is).
  static Fail osFail(Exception e, String what) {
    if (e instanceof Fail) return (Fail) e;
    String msg = String.valueOf(e.getMessage());
    String name = "io_error";
    if (e instanceof NoSuchFileException) name = "not_found";
    else if (e instanceof FileAlreadyExistsException || e instanceof BindException) name = "already_exists";
    else if (e instanceof AccessDeniedException) name = "permission_denied";
    else if (e instanceof InvalidPathException) name = "invalid_name";
    else if (msg.contains("Broken pipe") || msg.contains("Connection reset")) name = "broken_pipe";
    else if (msg.contains("Connection refused") || msg.contains("No such file")) name = "not_found";
    else if (msg.contains("Too many levels of symbolic links")) name = "not_a_pipe";
    else if (msg.contains("path too long") || msg.contains("File name too long")) name = "invalid_name";
    else if (msg.contains("Address already in use")) name = "already_exists";
    else if (msg.contains("Permission denied")) name = "permission_denied";
    return new Fail(name, what + ": " + msg, e.getClass().getSimpleName());
  }

  // -- a JSON reader and writer (the JDK has neither) ---------------------------------------------
  static final class Json {
    final String s;
    int i;
    Json(String s) { this.s = s; }
    static Object parse(String s) {
      Json j = new Json(s);
      Object v = j.value(0);
      j.ws();
      if (j.i != s.length()) throw new IllegalArgumentException("trailing characters");
      return v;
    }
    void ws() { while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) i++; }
    Object value(int depth) {
      if (depth > 64) throw new IllegalArgumentException("nested too deep");
      ws();
      if (i >= s.length()) throw new IllegalArgumentException("unexpected end");
      char c = s.charAt(i);
      if (c == '{') {
        Map<String, Object> m = new LinkedHashMap<>();
        i++; ws();
        if (s.charAt(i) == '}') { i++; return m; }
        for (;;) {
          ws();
          if (s.charAt(i) != '"') throw new IllegalArgumentException("key expected");
          String k = string();
          ws();
          if (s.charAt(i++) != ':') throw new IllegalArgumentException("':' expected");
          m.put(k, value(depth + 1));
          ws();
          char d = s.charAt(i++);
          if (d == '}') return m;
          if (d != ',') throw new IllegalArgumentException("',' or '}' expected");
        }
      }
      if (c == '[') {
        List<Object> l = new ArrayList<>();
        i++; ws();
        if (s.charAt(i) == ']') { i++; return l; }
        for (;;) {
          l.add(value(depth + 1));
          ws();
          char d = s.charAt(i++);
          if (d == ']') return l;
          if (d != ',') throw new IllegalArgumentException("',' or ']' expected");
        }
      }
      if (c == '"') return string();
      if (s.startsWith("true", i)) { i += 4; return Boolean.TRUE; }
      if (s.startsWith("false", i)) { i += 5; return Boolean.FALSE; }
      if (s.startsWith("null", i)) { i += 4; return null; }
      int start = i;
      while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
      String num = s.substring(start, i);
      if (num.isEmpty()) throw new IllegalArgumentException("unexpected character");
      if (num.matches("-?(0|[1-9][0-9]*)")) {
        try { return Long.parseLong(num); } catch (NumberFormatException e) { return Double.parseDouble(num); }
      }
      return Double.parseDouble(num);
    }
    String string() {
      StringBuilder b = new StringBuilder();
      i++;
      for (;;) {
        char c = s.charAt(i++);
        if (c == '"') return b.toString();
        if (c != '\\') { b.append(c); continue; }
        char e = s.charAt(i++);
        switch (e) {
          case 'n': b.append('\n'); break;
          case 't': b.append('\t'); break;
          case 'r': b.append('\r'); break;
          case 'b': b.append('\b'); break;
          case 'f': b.append('\f'); break;
          case 'u': b.append((char) Integer.parseInt(s.substring(i, i + 4), 16)); i += 4; break;
          default: b.append(e);
        }
      }
    }
    static void write(StringBuilder b, Object v) {
      if (v == null) b.append("null");
      else if (v instanceof String) quote(b, (String) v);
      else if (v instanceof Map) {
        b.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
          if (!first) b.append(',');
          first = false;
          quote(b, (String) e.getKey());
          b.append(':');
          write(b, e.getValue());
        }
        b.append('}');
      } else if (v instanceof List) {
        b.append('[');
        boolean first = true;
        for (Object o : (List<?>) v) {
          if (!first) b.append(',');
          first = false;
          write(b, o);
        }
        b.append(']');
      } else b.append(v);
    }
    static void quote(StringBuilder b, String s) {
      b.append('"');
      for (char c : s.toCharArray()) {
        if (c == '"' || c == '\\') b.append('\\').append(c);
        else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
        else b.append(c);
      }
      b.append('"');
    }
  }

  // -- command fields ------------------------------------------------------------------------------
  static final class Cmd {
    final Map<String, Object> m;
    Cmd(Map<String, Object> m) { this.m = m; }
    boolean has(String k) { return m.containsKey(k); }
    String str(String k) {
      Object v = m.get(k);
      if (!m.containsKey(k)) throw new Fail("protocol_error", "missing field '" + k + "'");
      if (!(v instanceof String)) throw new Fail("protocol_error", "field '" + k + "' must be a string");
      return (String) v;
    }
    Long integer(String k, long min) {
      if (!m.containsKey(k)) return null;
      Object v = m.get(k);
      if (!(v instanceof Long)) throw new Fail("protocol_error", "field '" + k + "' must be an integer");
      if ((Long) v < min) throw new Fail("protocol_error", "field '" + k + "' must be at least " + min);
      return (Long) v;
    }
    boolean bool(String k) {
      if (!m.containsKey(k)) return false;
      Object v = m.get(k);
      if (!(v instanceof Boolean)) throw new Fail("protocol_error", "field '" + k + "' must be a boolean");
      return (Boolean) v;
    }
    String dir() {
      String d = str("dir");
      if (!d.equals("r") && !d.equals("w")) throw new Fail("protocol_error", "field 'dir' must be 'r' or 'w'");
      return d;
    }
    byte[] b64(String k) {
      try {
        return Base64.getDecoder().decode(str(k));
      } catch (IllegalArgumentException e) {
        throw new Fail("protocol_error", "field '" + k + "' is not base64");
      }
    }
    @SuppressWarnings("unchecked")
    byte[] payload() {
      if (has("pattern")) {
        Object p = m.get("pattern");
        if (!(p instanceof Map)) throw new Fail("protocol_error", "field 'pattern' must be an object");
        Cmd pc = new Cmd((Map<String, Object>) p);
        Long size = pc.integer("size", 0);
        Long seed = pc.integer("seed", 0);
        if (size == null) throw new Fail("protocol_error", "missing field 'size'");
        if (size > Integer.MAX_VALUE - 16 || (seed != null && seed > 255))
          throw new Fail("protocol_error", "pattern out of range");
        int s = seed == null ? 0 : seed.intValue();
        byte[] out = new byte[size.intValue()];
        for (int i = 0; i < out.length; i++) out[i] = (byte) ((s + i % 251) % 256);
        return out;
      }
      return b64("data");
    }
    long timeout() { Long t = integer("timeout_ms", 0); return t == null ? -1 : t; }
  }

  static Path pathOf(String name) {
    try {
      return Path.of(name); // the JDK's way to name a file; it normalises (README.md, NAME-2)
    } catch (InvalidPathException e) {
      throw new Fail("invalid_name", e.getMessage(), "InvalidPathException");
    }
  }

  // -- handles -------------------------------------------------------------------------------------
  static final class Owner { Path path; String dir; Object key; boolean owns = true; }
  static final class End { FileChannel ch; String dir; }
  static final class Listener { ServerSocketChannel ch; Selector sel; byte[] key; String challenge; Path path; Object ident; }
  static final class Conn {
    SocketChannel ch; Selector rsel, wsel; boolean readBroken;
    boolean writeBroken; // a send's deadline cut a frame: nothing after it could be parsed
    ByteBuffer in = ByteBuffer.allocate(65536).flip(); // bytes read, not yet a whole message
    boolean eof;
  }

  final Map<String, Object> handles = new HashMap<>();
  int counter = 0;

  String add(String prefix, Object v) {
    String h = prefix + (++counter);
    handles.put(h, v);
    return h;
  }

  @SuppressWarnings("unchecked")
  <T> T get(Cmd c, String key, Class<T> kind) {
    String h = c.str(key);
    Object v = handles.get(h);
    if (!kind.isInstance(v)) throw new Fail("protocol_error", "unknown, closed or wrong kind of handle '" + h + "'");
    return (T) v;
  }

  // -- session -----------------------------------------------------------------------------------
  Map<String, Object> hello(Cmd c) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("protocol", 1L);
    r.put("impl", "java");
    r.put("version", System.getProperty("java.version"));
    r.put("platform", System.getProperty("os.name").toLowerCase().replace(" ", ""));
    r.put("profiles", List.of("fifo", "channel"));
    r.put("ops", OPS);
    return r;
  }

  // -- FIFO profile ------------------------------------------------------------------------------
  static Object identOf(Path p) throws IOException {
    return Files.getAttribute(p, "unix:dev", LinkOption.NOFOLLOW_LINKS) + "/"
        + Files.getAttribute(p, "unix:ino", LinkOption.NOFOLLOW_LINKS) + "/"
        + ((Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 0170000);
  }

  static boolean isFifo(Path p) throws IOException {
    int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    return (mode & 0170000) == 0010000;
  }

  Map<String, Object> create(Cmd c) throws IOException {
    String name = c.str("name");
    String dir = c.dir();
    c.integer("mode", 0);
    // The JDK has no mkfifo: a FIFO can only be adopted, never made (README.md).
    if (!c.bool("adopt")) throw new Fail("unsupported", "the JDK has no mkfifo: it cannot create a FIFO");
    Path p = pathOf(name);
    if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS))
      throw new Fail("unsupported", "nothing to adopt, and the JDK has no mkfifo");
    if (!isFifo(p)) throw new Fail("not_a_pipe", name + " exists and is not a FIFO");
    // FIFO-SEC-6: only a FIFO of this process's effective user. The JDK has no geteuid: the
    // owner of /proc/self is that user (Linux).
    Object uid = Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    Object euid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    if (!uid.equals(euid)) throw new Fail("permission_denied", name + " belongs to uid " + uid + ", not " + euid);
    Owner o = new Owner();
    o.path = p;
    o.dir = dir;
    o.key = Files.getAttribute(p, "unix:ino", LinkOption.NOFOLLOW_LINKS) + "/"
        + Files.getAttribute(p, "unix:dev", LinkOption.NOFOLLOW_LINKS);
    return Map.of("handle", add("o", o));
  }

  static FileChannel openChannel(Path p, String dir) throws IOException {
    return FileChannel.open(p, dir.equals("r") ? StandardOpenOption.READ : StandardOpenOption.WRITE,
        LinkOption.NOFOLLOW_LINKS);
  }

  // The blocking open runs on a thread; when the deadline passes, the agent opens the other
  // side itself (the waiting opener counts as the partner, so that open completes at once),
  // which completes the blocked open; both are closed and the answer is timeout. No thread is
  // left blocked, nothing stays open (FIFO-OPEN-3's "wake the blocked open").
  static FileChannel openWithDeadline(Path p, String dir, long ms) throws Exception {
    CompletableFuture<FileChannel> f = CompletableFuture.supplyAsync(() -> {
      try {
        return openChannel(p, dir);
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    });
    try {
      return f.get(ms, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      try (FileChannel other = openChannel(p, dir.equals("r") ? "w" : "r")) {
        FileChannel woken = f.get(5, TimeUnit.SECONDS);
        woken.close();
      }
      throw new Fail("timeout", "no peer came before the deadline");
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable t = e.getCause() instanceof RuntimeException && e.getCause().getCause() != null
          ? e.getCause().getCause() : e.getCause();
      throw t instanceof Exception ? (Exception) t : new RuntimeException(t);
    }
  }

  Map<String, Object> open(Cmd c) throws Exception {
    long timeout = c.timeout();
    Path p;
    String dir;
    if (c.has("owner")) {
      Owner o = get(c, "owner", Owner.class);
      dir = c.dir();
      if (!dir.equals(o.dir)) throw new Fail("protocol_error", "the owner was created for the '" + o.dir + "' end");
      p = o.path;
    } else {
      p = pathOf(c.str("name"));
      dir = c.dir();
    }
    if (timeout == 0) throw new Fail("unsupported", "FileChannel.open has no non-blocking form (no O_NONBLOCK)");
    try {
      if (!isFifo(p)) throw new Fail("not_a_pipe", p + " is not a FIFO");
      End e = new End();
      e.dir = dir;
      e.ch = timeout < 0 ? openChannel(p, dir) : openWithDeadline(p, dir, timeout);
      return Map.of("handle", add("h", e));
    } catch (Fail f) {
      throw f;
    } catch (Exception ex) {
      throw osFail(ex, "open " + p);
    }
  }

  Map<String, Object> read(Cmd c) throws IOException {
    End e = get(c, "handle", End.class);
    if (!e.dir.equals("r")) throw new Fail("protocol_error", "not a read end");
    if (c.has("timeout_ms"))
      throw new Fail("unsupported", "FileChannel.read has no deadline and no non-blocking form; an interrupt closes the channel");
    Long max = c.integer("max", 1);
    if (c.bool("digest")) {
      MessageDigest md = sha256();
      ByteBuffer buf = ByteBuffer.allocate(1 << 20);
      long size = 0;
      for (;;) {
        buf.clear();
        int n = e.ch.read(buf);
        if (n < 0) break;
        md.update(buf.array(), 0, n);
        size += n;
      }
      return Map.of("size", size, "sha256", hex(md.digest()), "eof", true);
    }
    ByteBuffer buf = ByteBuffer.allocate((int) Math.min(max == null ? 65536 : max, 1 << 24));
    int n;
    try {
      n = e.ch.read(buf);
    } catch (IOException ex) {
      throw osFail(ex, "read");
    }
    if (n < 0) return Map.of("eof", true);
    return Map.of("data", Base64.getEncoder().encodeToString(Arrays.copyOf(buf.array(), n)));
  }

  Map<String, Object> write(Cmd c) {
    End e = get(c, "handle", End.class);
    if (!e.dir.equals("w")) throw new Fail("protocol_error", "not a write end");
    if (c.has("timeout_ms"))
      throw new Fail("unsupported", "FileChannel.write has no deadline and no non-blocking form");
    Long repeat = c.integer("repeat", 1);
    byte[] data = c.payload();
    long written = 0;
    if (data.length == 0) return Map.of("written", 0L); // never handed to the system (FIFO-IO-8)
    try {
      for (long i = 0; i < (repeat == null ? 1 : repeat); i++) {
        ByteBuffer b = ByteBuffer.wrap(data);
        while (b.hasRemaining()) written += e.ch.write(b);
      }
    } catch (IOException ex) {
      throw osFail(ex, "write");
    }
    return Map.of("written", written);
  }

  static void removeIfOurs(Owner o) throws IOException {
    if (!o.owns) return;
    o.owns = false;
    try {
      Object key = Files.getAttribute(o.path, "unix:ino", LinkOption.NOFOLLOW_LINKS) + "/"
          + Files.getAttribute(o.path, "unix:dev", LinkOption.NOFOLLOW_LINKS);
      if (isFifo(o.path) && key.equals(o.key)) Files.deleteIfExists(o.path);
    } catch (NoSuchFileException e) {
      // already gone
    }
  }

  Map<String, Object> remove(Cmd c) throws IOException { removeIfOurs(get(c, "handle", Owner.class)); return Map.of(); }
  Map<String, Object> release(Cmd c) { get(c, "handle", Owner.class).owns = false; return Map.of(); }

  void closeValue(Object v) throws IOException {
    if (v instanceof Owner) removeIfOurs((Owner) v);
    else if (v instanceof End) ((End) v).ch.close();
    else if (v instanceof Listener) {
      // A closed ServerSocketChannel leaves its socket file (documented by the JDK): the agent
      // removes it, only while it is still the one this listener bound (CHAN-LISTEN-5).
      Listener l = (Listener) v;
      l.sel.close();
      l.ch.close();
      try {
        if (identOf(l.path).equals(l.ident)) Files.deleteIfExists(l.path);
      } catch (IOException e) {
        // gone or replaced: left alone
      }
    }
    else if (v instanceof Conn) { Conn k = (Conn) v; k.rsel.close(); k.wsel.close(); k.ch.close(); }
  }

  Map<String, Object> close(Cmd c) throws IOException {
    String h = c.str("handle");
    Object v = handles.remove(h);
    if (v == null) throw new Fail("protocol_error", "unknown or closed handle '" + h + "'");
    closeValue(v);
    return Map.of();
  }

  // -- Channel profile: multiprocessing.connection's framing and handshake, on NIO -------------
  static long deadlineOf(long timeoutMs) { return timeoutMs < 0 ? Long.MAX_VALUE : System.nanoTime() / 1_000_000 + timeoutMs; }
  static long now() { return System.nanoTime() / 1_000_000; }

  // Ensures `need` bytes are buffered. False when the deadline passed first; sets eof at EOF.
  static boolean fill(Conn k, int need, long deadline) throws IOException {
    if (k.in.capacity() < need) {
      ByteBuffer bigger = ByteBuffer.allocate(need);
      bigger.put(k.in);
      k.in = bigger.flip();
    }
    while (k.in.remaining() < need && !k.eof) {
      k.in.compact();
      int n;
      try {
        n = k.ch.read(k.in);
      } catch (IOException e) {
        k.in.flip();
        if (String.valueOf(e.getMessage()).contains("Connection reset")) { k.eof = true; break; }
        throw e;
      }
      k.in.flip();
      if (n < 0) { k.eof = true; break; }
      if (n == 0) {
        long left = deadline - now();
        if (deadline != Long.MAX_VALUE && left <= 0) return false;
        k.rsel.selectedKeys().clear();
        k.rsel.select(deadline == Long.MAX_VALUE ? 0 : left);
      }
    }
    return true;
  }

  // One message: null at EOF between messages; throws timeout when the deadline passes.
  static byte[] recvFrame(Conn k, long max, long deadline) throws IOException {
    if (!fill(k, 4, deadline)) throw new Fail("timeout", "no whole message before the deadline");
    if (k.in.remaining() == 0) return null;
    if (k.in.remaining() < 4) throw new Fail("protocol_error", "end of file inside a message header");
    int pos = k.in.position();
    long n = k.in.getInt(pos);
    int hlen = 4;
    if (n == -1) {
      if (!fill(k, 12, deadline)) throw new Fail("timeout", "no whole message before the deadline");
      if (k.in.remaining() < 12) throw new Fail("protocol_error", "end of file inside a message header");
      pos = k.in.position();
      n = k.in.getLong(pos + 4);
      hlen = 12;
      if (n < 0 || n > Integer.MAX_VALUE - 16) { k.readBroken = true; throw new Fail("message_too_long", "a message of " + Long.toUnsignedString(n) + " bytes"); }
    } else if (n < 0) {
      k.readBroken = true;
      throw new Fail("protocol_error", "negative message length " + n);
    }
    if (max >= 0 && n > max) {
      k.readBroken = true; // no longer at a message boundary (CHAN-RECV-2)
      throw new Fail("message_too_long", "a message of " + n + " bytes, maxlength " + max);
    }
    if (!fill(k, hlen + (int) n, deadline)) throw new Fail("timeout", "no whole message before the deadline");
    if (k.in.remaining() < hlen + n) throw new Fail("protocol_error", "end of file during message");
    k.in.position(k.in.position() + hlen);
    byte[] out = new byte[(int) n];
    k.in.get(out);
    return out;
  }

  static void writeAll(Conn k, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      if (k.ch.write(b) == 0) {
        k.wsel.selectedKeys().clear();
        k.wsel.select();
      }
    }
  }

  // One frame by a deadline (CHAN-SEND-1, -2): the channel is non-blocking, so each write takes
  // what the kernel accepts; between writes, the write selector waits for room for the time left.
  // Returns the bytes taken: all of the frame, or fewer when the deadline passed first.
  static long writeWithin(Conn k, ByteBuffer[] frame, long deadline) throws IOException {
    long want = 0, taken = 0;
    for (ByteBuffer b : frame) want += b.remaining();
    while (taken < want) {
      long n = k.ch.write(frame);
      taken += n;
      if (n > 0) continue;
      long left = deadline - now();
      if (left <= 0) break;  // select(0) would wait forever
      k.wsel.selectedKeys().clear();
      k.wsel.select(left);
    }
    return taken;
  }

  static void sendFrame(Conn k, byte[] data) throws IOException {
    ByteBuffer h = ByteBuffer.allocate(4).putInt(data.length).flip();
    writeAll(k, h);
    writeAll(k, ByteBuffer.wrap(data));
  }

  static final byte[] CHALLENGE = "#CHALLENGE#".getBytes(StandardCharsets.ISO_8859_1);
  static final byte[] WELCOME = "#WELCOME#".getBytes(StandardCharsets.ISO_8859_1);
  static final byte[] FAILURE = "#FAILURE#".getBytes(StandardCharsets.ISO_8859_1);

  static byte[] hmac(String name, byte[] key, byte[] msg) {
    try {
      Mac m = Mac.getInstance(MACS.get(name));
      // SecretKeySpec refuses an empty key; HMAC pads any key with zeros to its block size, so
      // the one-zero-byte key is the same key (CHAN-AUTH-10).
      m.init(new SecretKeySpec(key.length == 0 ? new byte[1] : key, MACS.get(name)));
      return m.doFinal(msg);
    } catch (Exception e) {
      throw new Fail("auth_failed", "HMAC-" + name + ": " + e);
    }
  }

  static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) n += p.length;
    byte[] out = new byte[n];
    int off = 0;
    for (byte[] p : parts) { System.arraycopy(p, 0, out, off, p.length); off += p.length; }
    return out;
  }

  static boolean startsWith(byte[] b, byte[] prefix) {
    return b.length >= prefix.length && Arrays.equals(Arrays.copyOf(b, prefix.length), prefix);
  }

  // "{name}" + rest -> {name, rest}; no prefix -> null.
  static Object[] splitDigest(byte[] b) {
    if (b.length == 0 || b[0] != '{') return null;
    for (int i = 1; i < Math.min(b.length, 22); i++)
      if (b[i] == '}') {
        String name = new String(b, 1, i - 1, StandardCharsets.ISO_8859_1);
        if (!MACS.containsKey(name)) throw new Fail("auth_failed", "unknown digest {" + name + "}");
        return new Object[] {name, Arrays.copyOfRange(b, i + 1, b.length)};
      }
    throw new Fail("auth_failed", "malformed {digest} prefix");
  }

  static byte[] hsRecv(Conn k, long deadline) throws IOException {
    byte[] m;
    try {
      m = recvFrame(k, 256, deadline);
    } catch (Fail f) {
      if (f.error.equals("timeout")) throw f;
      throw new Fail("auth_failed", "handshake: " + f.getMessage());
    } catch (IOException e) {
      throw new Fail("auth_failed", "handshake: " + e.getMessage());
    }
    if (m == null) throw new Fail("auth_failed", "handshake: the peer closed");
    return m;
  }

  static void hsSend(Conn k, byte[] b) {
    try {
      sendFrame(k, b);
    } catch (IOException e) {
      throw new Fail("auth_failed", "handshake: " + e.getMessage());
    }
  }

  static void deliverChallenge(Conn k, byte[] key, String form, long deadline) throws IOException {
    byte[] rnd = new byte[form.equals("md5") ? 20 : 40];
    RANDOM.nextBytes(rnd);
    byte[] msg = form.equals("md5") ? rnd : concat("{sha256}".getBytes(StandardCharsets.ISO_8859_1), rnd);
    hsSend(k, concat(CHALLENGE, msg));
    byte[] answer = hsRecv(k, deadline);
    boolean ok = false;
    if (answer.length == 16) ok = MessageDigest.isEqual(answer, hmac("md5", key, msg));
    else {
      try {
        Object[] d = splitDigest(answer);
        if (d != null) ok = MessageDigest.isEqual((byte[]) d[1], hmac((String) d[0], key, msg));
      } catch (Fail f) {
        ok = false;
      }
    }
    if (!ok) {
      try { sendFrame(k, FAILURE); } catch (IOException e) { /* the peer may have gone */ }
      throw new Fail("auth_failed", "digest received was wrong");
    }
    hsSend(k, WELCOME);
  }

  static void answerChallenge(Conn k, byte[] key, long deadline) throws IOException {
    byte[] m = hsRecv(k, deadline);
    if (!startsWith(m, CHALLENGE)) throw new Fail("auth_failed", "not a #CHALLENGE# message");
    byte[] msg = Arrays.copyOfRange(m, CHALLENGE.length, m.length);
    // A 20-byte message is the legacy form whatever its first byte (random bytes may start with
    // '{'), as CPython 3.12's _get_digest_name_and_payload decides by length first.
    Object[] d = msg.length == 20 ? null : splitDigest(msg);
    byte[] rest = d == null ? msg : (byte[]) d[1];
    if (rest.length < 20) throw new Fail("auth_failed", "challenge too short");
    byte[] answer = d == null ? hmac("md5", key, msg)
        : concat(("{" + d[0] + "}").getBytes(StandardCharsets.ISO_8859_1), hmac((String) d[0], key, msg));
    hsSend(k, answer);
    if (!Arrays.equals(hsRecv(k, deadline), WELCOME)) throw new Fail("auth_failed", "digest sent was rejected");
  }

  static String challengeOf(Cmd c) {
    String f = c.has("challenge") ? c.str("challenge") : "sha256";
    if (!f.equals("sha256") && !f.equals("md5")) throw new Fail("protocol_error", "field 'challenge' must be 'sha256' or 'md5'");
    return f;
  }

  static Conn newConn(SocketChannel ch) throws IOException {
    ch.configureBlocking(false);
    Conn k = new Conn();
    k.ch = ch;
    k.rsel = Selector.open();
    k.wsel = Selector.open();
    ch.register(k.rsel, SelectionKey.OP_READ);
    ch.register(k.wsel, SelectionKey.OP_WRITE);
    return k;
  }

  Map<String, Object> listen(Cmd c) throws IOException {
    String address = c.str("address");
    String form = challengeOf(c);
    byte[] key = c.has("authkey") ? c.b64("authkey") : null;
    Path p = pathOf(address);
    ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      ch.bind(UnixDomainSocketAddress.of(p), 64);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw osFail(e, "listen " + address);
    }
    ch.configureBlocking(false);
    Listener l = new Listener();
    l.ch = ch;
    l.sel = Selector.open();
    ch.register(l.sel, SelectionKey.OP_ACCEPT);
    l.key = key;
    l.challenge = form;
    l.path = p;
    l.ident = identOf(p);
    return Map.of("handle", add("l", l));
  }

  Map<String, Object> accept(Cmd c) throws IOException {
    Listener l = get(c, "handle", Listener.class);
    long timeout = c.timeout();
    long deadline = deadlineOf(timeout);
    SocketChannel s;
    while ((s = l.ch.accept()) == null) {
      long left = deadline - now();
      if (deadline != Long.MAX_VALUE && left <= 0)
        throw new Fail(timeout == 0 ? "would_block" : "timeout", "no client");
      l.sel.selectedKeys().clear();
      l.sel.select(deadline == Long.MAX_VALUE ? 0 : left);
    }
    Conn k = newConn(s);
    if (l.key != null) {
      long hd = Math.min(deadline, now() + HANDSHAKE_MS);
      try {
        deliverChallenge(k, l.key, l.challenge, hd);
        answerChallenge(k, l.key, hd);
      } catch (RuntimeException | IOException e) {
        closeValue(k);
        throw e;
      }
    }
    return Map.of("handle", add("c", k));
  }

  Map<String, Object> connect(Cmd c) throws IOException {
    String address = c.str("address");
    String form = challengeOf(c);
    byte[] key = c.has("authkey") ? c.b64("authkey") : null;
    long timeout = c.timeout();
    long deadline = deadlineOf(timeout);
    Path p = pathOf(address);
    SocketChannel s;
    try {
      if (timeout < 0) {
        s = SocketChannel.open(UnixDomainSocketAddress.of(p));
      } else {
        // A deadline: non-blocking connects, retried while the listener's queue is full (EAGAIN),
        // until the deadline (CHAN-CONNECT-4).
        s = null;
        while (s == null) {
          SocketChannel t = SocketChannel.open(StandardProtocolFamily.UNIX);
          t.configureBlocking(false);
          try {
            if (t.connect(UnixDomainSocketAddress.of(p)) || t.finishConnect()) {
              t.configureBlocking(true);
              s = t;
              break;
            }
            t.close();
          } catch (IOException e) {
            t.close();
            if (!String.valueOf(e.getMessage()).contains("Resource temporarily unavailable")) throw e;
          }
          if (now() >= deadline) throw new Fail(timeout == 0 ? "would_block" : "timeout", "the listener's queue stayed full");
          try { Thread.sleep(5); } catch (InterruptedException e) { throw new IOException(e); }
        }
      }
    } catch (IOException | RuntimeException e) {
      throw osFail(e, "connect " + address);
    }
    Conn k = newConn(s);
    if (key != null) {
      long hd = Math.min(deadline, now() + HANDSHAKE_MS);
      try {
        answerChallenge(k, key, hd);
        deliverChallenge(k, key, form, hd);
      } catch (RuntimeException | IOException e) {
        closeValue(k);
        throw e;
      }
    }
    return Map.of("handle", add("c", k));
  }

  Map<String, Object> send(Cmd c) {
    Conn k = get(c, "handle", Conn.class);
    long timeout = c.timeout();
    byte[] data = c.payload();
    if (k.writeBroken)
      throw new Fail("io_error", "send: an earlier send was cut by its deadline inside a message, so the connection can send no more");
    try {
      if (timeout < 0) {
        sendFrame(k, data);
      } else {
        ByteBuffer[] frame = {ByteBuffer.allocate(4).putInt(data.length).flip(), ByteBuffer.wrap(data)};
        long taken = writeWithin(k, frame, deadlineOf(timeout));
        if (taken < 4L + data.length) {
          // Part of the frame went (CHAN-SEND-2): the peer's stream is inside a message for good.
          if (taken > 0) k.writeBroken = true;
          throw new Fail(timeout == 0 ? "would_block" : "timeout",
                         "send: the deadline passed with " + taken + " bytes of the frame sent");
        }
      }
    } catch (IOException e) {
      throw osFail(e, "send");
    }
    return Map.of("sent", (long) data.length);
  }

  Map<String, Object> recv(Cmd c) {
    Conn k = get(c, "handle", Conn.class);
    long timeout = c.timeout();
    Long max = c.integer("max", 0);
    if (k.readBroken) throw new Fail("io_error", "the connection is write-only after a refused message");
    byte[] m;
    try {
      m = recvFrame(k, max == null ? -1 : max, deadlineOf(timeout));
    } catch (Fail f) {
      if (f.error.equals("timeout") && timeout == 0) throw new Fail("would_block", f.getMessage());
      throw f;
    } catch (IOException e) {
      throw osFail(e, "recv");
    }
    if (m == null) return Map.of("eof", true);
    if (c.bool("digest")) return Map.of("size", (long) m.length, "sha256", hex(sha256().digest(m)));
    return Map.of("data", Base64.getEncoder().encodeToString(m));
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static String hex(byte[] b) {
    StringBuilder s = new StringBuilder();
    for (byte x : b) s.append(String.format("%02x", x));
    return s.toString();
  }

  void closeAll() {
    for (Object v : handles.values()) {
      try {
        closeValue(v);
      } catch (Exception e) {
        // exiting
      }
    }
    handles.clear();
  }

  // -- the loop: one command at a time ---------------------------------------------------------
  @SuppressWarnings("unchecked")
  boolean run(String line, PrintStream out) {
    Map<String, Object> reply = new LinkedHashMap<>();
    reply.put("id", null);
    reply.put("ok", true);
    boolean bye = false;
    try {
      Object v;
      try {
        v = Json.parse(line);
      } catch (RuntimeException e) {
        throw new Fail("protocol_error", "line: not JSON: " + e.getMessage());
      }
      if (!(v instanceof Map)) throw new Fail("protocol_error", "line: a JSON object expected");
      Cmd c = new Cmd((Map<String, Object>) v);
      if (c.has("id")) reply.put("id", c.m.get("id"));
      if (c.integer("id", Long.MIN_VALUE) == null) throw new Fail("protocol_error", "missing field 'id'");
      String op = c.str("op");
      Map<String, Object> r;
      switch (op) {
        case "hello": r = hello(c); break;
        case "bye": closeAll(); r = Map.of(); bye = true; break;
        case "create": r = create(c); break;
        case "open": r = open(c); break;
        case "read": r = read(c); break;
        case "write": r = write(c); break;
        case "remove": r = remove(c); break;
        case "release": r = release(c); break;
        case "close": r = close(c); break;
        case "listen": r = listen(c); break;
        case "accept": r = accept(c); break;
        case "connect": r = connect(c); break;
        case "send": r = send(c); break;
        case "recv": r = recv(c); break;
        default: throw new Fail("unsupported", "unknown op '" + op + "'");
      }
      reply.putAll(r);
    } catch (Fail f) {
      fail(reply, f);
    } catch (Exception e) {
      fail(reply, osFail(e, "error"));
    }
    StringBuilder b = new StringBuilder();
    Json.write(b, reply);
    out.print(b.append('\n'));
    out.flush();
    return bye;
  }

  static void fail(Map<String, Object> reply, Fail f) {
    reply.put("ok", false);
    reply.put("error", f.error);
    reply.put("message", String.valueOf(f.getMessage()));
    if (f.nativeName != null) reply.put("native", f.nativeName);
  }

  public static void main(String[] args) throws IOException {
    Agent a = new Agent();
    // The JDK opens /dev/null once for its own use the first time a FileChannel is closed:
    // done here, so that a timed-out open is not seen to leave a descriptor behind (FIFO-OPEN-3).
    FileChannel.open(Path.of("/dev/null"), StandardOpenOption.READ).close();
    PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false, StandardCharsets.UTF_8);
    InputStream in = System.in;
    java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(in, StandardCharsets.UTF_8));
    for (String line; (line = r.readLine()) != null;) {
      if (line.isBlank()) continue;
      if (a.run(line, out)) break;
    }
    a.closeAll();
    // Threads still blocked in a FIFO open (none when every deadline woke its open) must not
    // keep the JVM alive after EOF on stdin.
    System.exit(0);
  }
}
