// FIFO-EOF-4, CHAN-EOF-4: the JDK opens its descriptors without close-on-exec (it closes them in
// its own process launcher instead), so a child made by exec outside the JDK inherits them.
import java.net.StandardProtocolFamily;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

public class NoCloexec {
  public static void main(String[] a) throws Exception {
    try (SocketChannel s = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      int cloexecMissing = 0;
      for (Path fd : Files.newDirectoryStream(Path.of("/proc/self/fdinfo"))) {
        String target;
        try {
          target = Files.readSymbolicLink(Path.of("/proc/self/fd", fd.getFileName().toString())).toString();
        } catch (Exception e) {
          continue;
        }
        if (!target.startsWith("socket:")) continue;
        for (String line : Files.readAllLines(fd))
          if (line.startsWith("flags:") && (Integer.parseInt(line.substring(6).trim(), 8) & 02000000) == 0) cloexecMissing++;
      }
      System.out.println(cloexecMissing > 0 ? "REPRODUCED: " + cloexecMissing + " socket descriptor(s) without O_CLOEXEC" : "NOT REPRODUCED");
      System.exit(cloexecMissing > 0 ? 0 : 1);
    }
  }
}
