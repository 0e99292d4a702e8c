// CHAN-LISTEN-3: bind over a stale socket file fails with BindException (EADDRINUSE).
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;

public class StaleSocket {
  public static void main(String[] a) throws Exception {
    // A stale socket file: a closed ServerSocketChannel leaves it behind (as documented).
    ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of("sock")).close();
    try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      s.bind(UnixDomainSocketAddress.of("sock"));
      System.out.println("NOT REPRODUCED: the stale file was replaced");
      System.exit(1);
    } catch (java.net.BindException e) {
      System.out.println("REPRODUCED: bind over a stale socket file: " + e);
    }
  }
}
