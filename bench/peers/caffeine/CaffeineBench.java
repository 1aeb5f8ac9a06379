// The Caffeine peer of bench/micro/memory_tier_bench.cc's BM_GetHit: the same
// shape of workload (a preloaded cache of 100,000 entries with a 1 h
// expire-after-write, every get a hit, keys drawn Zipf(0.99) over all 100k
// keys or over a 1,000-key hot set, 1 and 2 threads) on Caffeine 2.6.2, the
// JVM cache SPEC §5 names as the bar for the memory tier.
//
// Usage: java -cp caffeine.jar:. CaffeineBench [seconds-per-case]
// Prints one line per case: "caffeine keys=N threads=T ops_per_s=X".
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.ArrayList;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

public final class CaffeineBench {
  static final int ENTRIES = 100_000;
  static final int SEQUENCE = 1 << 20;

  // SEQUENCE draws from Zipf(s) over [0, n), ranks scrambled, fixed seed.
  static int[] zipf(int n, double s, long seed) {
    double[] cdf = new double[n];
    double sum = 0;
    for (int i = 0; i < n; i++) {
      sum += 1.0 / Math.pow(i + 1, s);
      cdf[i] = sum;
    }
    Random rng = new Random(seed);
    List<Integer> ranks = new ArrayList<>();
    for (int i = 0; i < n; i++) ranks.add(i);
    Collections.shuffle(ranks, rng);
    int[] seq = new int[SEQUENCE];
    for (int i = 0; i < SEQUENCE; i++) {
      int r = Arrays.binarySearch(cdf, rng.nextDouble() * sum);
      if (r < 0) r = -r - 1;
      seq[i] = ranks.get(Math.min(r, n - 1));
    }
    return seq;
  }

  static double run(Cache<String, byte[]> cache, String[] keys, int[] seq, int threads,
                    double seconds) throws InterruptedException {
    LongAdder ops = new LongAdder();
    Thread[] workers = new Thread[threads];
    long deadline = System.nanoTime() + (long) (seconds * 1e9);
    long start = System.nanoTime();
    for (int t = 0; t < threads; t++) {
      final int offset = t * 7919;
      workers[t] = new Thread(() -> {
        long local = 0;
        int i = offset;
        long sink = 0;
        while (true) {
          for (int k = 0; k < 4096; k++) {
            byte[] v = cache.getIfPresent(keys[seq[i & (SEQUENCE - 1)]]);
            if (v == null) throw new IllegalStateException("miss");
            sink += v.length;
            i++;
          }
          local += 4096;
          if (System.nanoTime() > deadline) break;
        }
        ops.add(local + (sink == 42 ? 1 : 0));
      });
      workers[t].start();
    }
    for (Thread w : workers) w.join();
    double elapsed = (System.nanoTime() - start) / 1e9;
    return ops.sum() / elapsed;
  }

  public static void main(String[] args) throws Exception {
    double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 3.0;
    String[] keys = new String[ENTRIES];
    for (int i = 0; i < ENTRIES; i++) keys[i] = String.format("bench\0p%064x", i * 2654435761L);
    byte[] value = new byte[4096];
    Cache<String, byte[]> cache = Caffeine.newBuilder()
        .maximumSize(ENTRIES)
        .expireAfterWrite(1, TimeUnit.HOURS)
        .build();
    for (String k : keys) cache.put(k, value);
    cache.cleanUp();
    int[][] streams = {zipf(ENTRIES, 0.99, 42), zipf(1000, 0.99, 42)};
    int[] universes = {ENTRIES, 1000};
    for (int s = 0; s < streams.length; s++) {
      for (int threads = 1; threads <= 2; threads++) {
        run(cache, keys, streams[s], threads, seconds / 3);  // JIT warm-up
        double rate = run(cache, keys, streams[s], threads, seconds);
        System.out.printf("caffeine keys=%d threads=%d ops_per_s=%.0f%n", universes[s], threads, rate);
      }
    }
  }
}
