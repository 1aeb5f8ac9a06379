// The Caffeine peer of `plancache simulate` for hit rates (SPEC §5: "default
// policy >= Caffeine on every trace"). Reads a key stream from stdin, one
// decimal integer per line (CRLF accepted; blank lines and lines starting with
// '#' or '*', the LIRS traces' separator, skipped; values up to 2^64-1 kept as
// their 64-bit pattern, so distinct keys stay distinct), and replays it against
// one Caffeine cache per size, all in the same pass:
//
//   Caffeine.newBuilder().maximumSize(n).initialCapacity(n).executor(Runnable::run)
//   per request: getIfPresent(key) == null ? miss, put(key) : hit
//
// exactly what Caffeine's own simulator does for "product.Caffeine"
// (CaffeinePolicy), with unit weights. The executor runs maintenance on the
// calling thread, so evictions happen as the stream is replayed.
//
// Caffeine 2.6.2 (Debian's libcaffeine-java) is W-TinyLFU with a static 1 %
// admission window (the hill-climbing window came in 2.7), and it is not fully
// deterministic: its frequency sketch gets a random hash seed per cache and
// admission lets a random ~1/128 of warm candidates in (hash-flooding
// protection), both from ThreadLocalRandom. So each size is replayed --runs
// times (default 5) on fresh caches and the median run is reported, with the
// min and max hit rate beside it.
//
// --cleanup calls cache.cleanUp() after every request: every read then reaches
// the policy (Caffeine otherwise drops a read when its 16-slot read buffer is
// full, before draining it). Off by default, as in Caffeine's simulator.
//
// Usage: java -cp caffeine.jar:. CaffeineHitRate [--runs K] [--cleanup] SIZE...
// Prints one JSON object:
//   {"peer":"caffeine","version":"2.6.2","runs":K,"cleanup":false,
//    "requests":R,"unique_keys":U,
//    "results":[{"size":N,"requests":R,"hits":H,"hit_rate":x,
//                "hit_rate_min":x,"hit_rate_max":x}, ...]}
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public final class CaffeineHitRate {
  private static void usage(String why) {
    System.err.println("CaffeineHitRate: " + why);
    System.err.println("usage: java -cp caffeine.jar:. CaffeineHitRate [--runs K] [--cleanup] SIZE... < keys");
    System.exit(2);
  }

  // Decimal keys, one per line, from a byte stream; no per-line allocation.
  static long[] readKeys(InputStream in) throws IOException {
    long[] keys = new long[1 << 16];
    int n = 0;
    byte[] buf = new byte[1 << 16];
    long value = 0;
    boolean digits = false, negative = false, comment = false, atStart = true, ended = false;
    long line = 1;
    for (int len; (len = in.read(buf)) > 0; ) {
      for (int i = 0; i < len; i++) {
        byte b = buf[i];
        if (b == '\n') {
          if (digits) {
            if (n == keys.length) keys = Arrays.copyOf(keys, n * 2);
            keys[n++] = negative ? -value : value;
          } else if (!atStart && !comment) {
            throw new IOException("line " + line + ": no digits");
          }
          value = 0;
          digits = negative = comment = ended = false;
          atStart = true;
          line++;
        } else if (comment) {
          // skip
        } else if (b >= '0' && b <= '9' && !ended) {
          value = value * 10 + (b - '0');  // wraps mod 2^64: unsigned 64-bit keys keep their bits
          digits = true;
          atStart = false;
        } else if ((b == '#' || b == '*') && atStart) {
          comment = true;
        } else if (b == '-' && atStart) {
          negative = true;
          atStart = false;
        } else if (b == '\r' || b == ' ' || b == '\t') {
          ended = digits;  // tolerate CRLF and blanks around the key, not inside it
        } else {
          throw new IOException("line " + line + ": not a decimal key (byte " + (b & 0xff) + ")");
        }
      }
    }
    if (digits) {
      if (n == keys.length) keys = Arrays.copyOf(keys, n + 1);
      keys[n++] = negative ? -value : value;
    }
    return Arrays.copyOf(keys, n);
  }

  // Hits of one pass over keys, one fresh cache per size.
  static long[] replay(long[] keys, int[] sizes, boolean cleanup) {
    List<Cache<Long, Boolean>> caches = new ArrayList<>();
    for (int size : sizes) {
      caches.add(Caffeine.newBuilder()
          .maximumSize(size)
          .initialCapacity(size)
          .executor(Runnable::run)
          .build());
    }
    long[] hits = new long[sizes.length];
    for (long k : keys) {
      Long key = k;
      for (int s = 0; s < sizes.length; s++) {
        Cache<Long, Boolean> c = caches.get(s);
        if (c.getIfPresent(key) == null) {
          c.put(key, Boolean.TRUE);
        } else {
          hits[s]++;
        }
        if (cleanup) c.cleanUp();
      }
    }
    return hits;
  }

  // "2.6.2" from the jar's real file name (caffeine.jar -> caffeine-2.6.2.jar), else the
  // -Dcaffeine.version the script passes (dpkg's version), else "unknown".
  static String version() {
    String v = Caffeine.class.getPackage().getImplementationVersion();
    if (v != null) return v;
    try {
      Path jar = Paths.get(Caffeine.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toRealPath();
      Matcher m = Pattern.compile("caffeine-([0-9][^/]*)\\.jar$").matcher(jar.toString());
      if (m.find()) return m.group(1);
    } catch (Exception ignored) {
      // fall through
    }
    return System.getProperty("caffeine.version", "unknown");
  }

  public static void main(String[] args) throws Exception {
    int runs = 5;
    boolean cleanup = false;
    List<Integer> sizeList = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--runs") && i + 1 < args.length) {
        runs = Integer.parseInt(args[++i]);
      } else if (a.startsWith("--runs=")) {
        runs = Integer.parseInt(a.substring(7));
      } else if (a.equals("--cleanup")) {
        cleanup = true;
      } else if (a.equals("-h") || a.equals("--help")) {
        System.out.println("usage: java -cp caffeine.jar:. CaffeineHitRate [--runs K] [--cleanup] SIZE... < keys");
        System.out.println("Replays decimal keys (one per line, stdin) against Caffeine maximumSize(SIZE),");
        System.out.println("getIfPresent/put, all sizes in one pass; median of K runs (default 5). JSON on stdout.");
        return;
      } else {
        for (String part : a.split(",")) {
          if (part.isEmpty()) continue;
          int n;
          try {
            n = Integer.parseInt(part);
          } catch (NumberFormatException e) {
            usage("not a size: " + part);
            return;
          }
          if (n <= 0) usage("size must be > 0: " + part);
          sizeList.add(n);
        }
      }
    }
    if (sizeList.isEmpty()) usage("no sizes");
    if (runs < 1) usage("--runs must be >= 1");
    int[] sizes = sizeList.stream().mapToInt(Integer::intValue).toArray();

    long[] keys;
    try {
      keys = readKeys(new DataInputStream(System.in));
    } catch (IOException e) {
      usage("stdin: " + e.getMessage());
      return;
    }
    if (keys.length == 0) usage("no keys on stdin");
    HashSet<Long> unique = new HashSet<>();
    for (long k : keys) unique.add(k);

    long[][] hits = new long[sizes.length][runs];
    for (int r = 0; r < runs; r++) {
      long[] h = replay(keys, sizes, cleanup);
      for (int s = 0; s < sizes.length; s++) hits[s][r] = h[s];
    }

    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT,
        "{\"peer\":\"caffeine\",\"version\":\"%s\",\"policy\":\"W-TinyLFU (Caffeine.maximumSize)\","
            + "\"runs\":%d,\"cleanup\":%b,\"requests\":%d,\"unique_keys\":%d,\"results\":[",
        version(), runs, cleanup, keys.length, unique.size()));
    for (int s = 0; s < sizes.length; s++) {
      long[] h = hits[s].clone();
      Arrays.sort(h);
      long median = h[(runs - 1) / 2];
      double n = keys.length;
      if (s > 0) out.append(',');
      out.append(String.format(Locale.ROOT,
          "{\"size\":%d,\"requests\":%d,\"hits\":%d,\"hit_rate\":%.6f,\"hit_rate_min\":%.6f,\"hit_rate_max\":%.6f}",
          sizes[s], keys.length, median, median / n, h[0] / n, h[runs - 1] / n));
    }
    out.append("]}");
    System.out.println(out);
  }
}
