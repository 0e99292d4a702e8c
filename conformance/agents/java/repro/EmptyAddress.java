// NAME-3: UnixDomainSocketAddress.of("") is accepted (the unnamed address); a connect to it is
// refused (ECONNREFUSED) instead of being reported as an invalid name.
import java.net.ConnectException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;

public class EmptyAddress {
  public static void main(String[] a) throws Exception {
    try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(""))) {
      System.out.println("NOT REPRODUCED: connected");
      System.exit(1);
    } catch (ConnectException e) {
      System.out.println("REPRODUCED: connect to UnixDomainSocketAddress.of(\"\"): " + e);
    }
  }
}
