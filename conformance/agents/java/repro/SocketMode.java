// CHAN-LISTEN-1: ServerSocketChannel.bind(UnixDomainSocketAddress) leaves the socket file at
// 0777 & ~umask. Run with umask 0 (the runner sets it).
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

public class SocketMode {
  public static void main(String[] a) throws Exception {
    try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      s.bind(UnixDomainSocketAddress.of("sock"));
      String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(Path.of("sock")));
      System.out.println(mode.equals("rw-------") ? "NOT REPRODUCED: 0600" : "REPRODUCED: socket file mode " + mode + " under the runner's umask 0");
      Files.delete(Path.of("sock"));
      System.exit(mode.equals("rw-------") ? 1 : 0);
    }
  }
}
