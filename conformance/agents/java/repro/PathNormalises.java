// NAME-2: Path.of normalises a raw name: "f/" (a trailing slash, which open(2) refuses with
// ENOTDIR for a FIFO) becomes "f", so a name is not used as given.
import java.nio.file.Path;

public class PathNormalises {
  public static void main(String[] a) {
    String p = Path.of("f/").toString();
    System.out.println(p.equals("f") ? "REPRODUCED: Path.of(\"f/\") is \"" + p + "\"" : "NOT REPRODUCED: " + p);
    System.exit(p.equals("f") ? 0 : 1);
  }
}
