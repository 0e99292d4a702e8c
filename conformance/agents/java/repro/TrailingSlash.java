// NAME-2: a connect to "s/" reaches the listener at "s": Path.of drops the trailing slash that
// connect(2) would refuse with ENOTDIR.
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

public class TrailingSlash {
  public static void main(String[] a) throws Exception {
    try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      s.bind(UnixDomainSocketAddress.of("s"));
      try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(Path.of("s/")))) {
        System.out.println("REPRODUCED: a connect to \"s/\" reached the listener at \"s\"");
      } catch (java.io.IOException e) {
        System.out.println("NOT REPRODUCED: " + e);
        System.exit(1);
      } finally {
        Files.delete(Path.of("s"));
      }
    }
  }
}
