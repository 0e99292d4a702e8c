// Not a deviation, a gap: the JDK has no way to make a FIFO (no mkfifo in java.nio.file.Files or
// anywhere in java.base), so the agent answers `create` with unsupported.
public class NoMkfifo {
  public static void main(String[] a) {
    for (java.lang.reflect.Method m : java.nio.file.Files.class.getMethods())
      if (m.getName().toLowerCase().contains("fifo") || m.getName().toLowerCase().contains("pipe")) {
        System.out.println("NOT REPRODUCED: " + m);
        System.exit(1);
      }
    System.out.println("REPRODUCED: java.nio.file.Files has no method to create a FIFO");
  }
}
