// MidolmanStandin: a STAND-IN for the MidoNet agent (midolman) in the local lab. It is NOT
// midolman: it forwards no packets. It is a real JVM that exposes, over real JMX (RMI), MBeans
// shaped like midolman's metrics (Yammer-metrics JmxReporter shapes: meters with Count and rates,
// a histogram with Min/Max/Mean/StdDev/percentiles in nanoseconds, counters, gauges with Value)
// and keeps them changing, and that allocates some heap so heap pools and heap dumps are real.
//
// Two ways to run it:
//  - packaged (test/lab/agent-package/): compiled into /usr/share/midolman/midolman.jar, started by
//    the package's init script through /usr/share/midolman/midolman-start with the JVM options of
//    /etc/midolman/midolman-env.sh. The jar names its build as MidoNet's does: MANIFEST
//    Implementation-Title/Implementation-Version (a -SNAPSHOT project version) and the git revision
//    in a git.properties resource; the MANIFEST may carry two stand-in-only attributes:
//      Standin-Simulation-Latency-Ns: mean simulated latency (builds differ observably)
//      Standin-Startup-Failure: a message; the agent logs it as an ERROR and exits 1 (a broken build)
//  - from source (tests): java [JMX options] test/lab/jvm-standin/MidolmanStandin.java [--pid-file F]
//
// Configuration, as midolman's:
//   -Dmidolman.conf=FILE             INI file ([section] key = value); read and logged (sha256, keys);
//                                    [standin] pps = N overrides the simulated packet rate
//   -Dlogback.configurationFile=FILE logback XML: the FILE appender's <file> and <root level=...> are
//                                    honoured (a tiny reader, not logback); without it: stderr, INFO
// JMX stays where the JVM options put it (the package binds 127.0.0.1:7200 only).
// Arguments: [--pid-file FILE] (written once the MBeans are registered) [--pps N].
// Runs until SIGTERM (logged as a clean shutdown).
import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

public class MidolmanStandin {
  /** The object-name domain and types of midolman 1.x's metrics (see the profile's jmx-mbeans-midolman-1.x.conf). */
  static final String DOMAIN = "org.midonet.midolman.monitoring.metrics";

  public interface MeterMBean {
    long getCount();
    double getMeanRate();
    double getOneMinuteRate();
  }

  public interface CounterMBean {
    long getCount();
  }

  public interface GaugeMBean {
    Object getValue();
  }

  public interface HistogramMBean {
    long getCount();
    double getMin();
    double getMax();
    double getMean();
    double getStdDev();
    double get50thPercentile();
    double get75thPercentile();
    double get95thPercentile();
    double get98thPercentile();
    double get99thPercentile();
    double get999thPercentile();
  }

  public static class Meter implements MeterMBean {
    final AtomicLong count = new AtomicLong();
    final long start = System.nanoTime();
    volatile double oneMinute;
    void mark(long n, double instantRate) {
      count.addAndGet(n);
      oneMinute = oneMinute == 0 ? instantRate : oneMinute + (instantRate - oneMinute) * (1 - Math.exp(-0.1 / 60));
    }
    public long getCount() { return count.get(); }
    public double getMeanRate() { double s = (System.nanoTime() - start) / 1e9; return s > 0 ? count.get() / s : 0; }
    public double getOneMinuteRate() { return oneMinute; }
  }

  public static class Counter implements CounterMBean {
    final AtomicLong count = new AtomicLong();
    public long getCount() { return count.get(); }
  }

  public static class Gauge implements GaugeMBean {
    volatile long value;
    public Object getValue() { return value; }
  }

  /** A sliding window of the last 1028 samples (like Yammer's uniform reservoir size). */
  public static class Histogram implements HistogramMBean {
    final long[] window = new long[1028];
    int filled, next;
    long count;
    synchronized void update(long v) {
      window[next] = v;
      next = (next + 1) % window.length;
      if (filled < window.length) filled++;
      count++;
    }
    synchronized long[] sorted() { long[] c = Arrays.copyOf(window, filled); Arrays.sort(c); return c; }
    double q(double p) { long[] s = sorted(); if (s.length == 0) return 0; return s[(int) Math.min(s.length - 1, Math.floor(p * s.length))]; }
    public synchronized long getCount() { return count; }
    public double getMin() { long[] s = sorted(); return s.length == 0 ? 0 : s[0]; }
    public double getMax() { long[] s = sorted(); return s.length == 0 ? 0 : s[s.length - 1]; }
    public double getMean() { long[] s = sorted(); return Arrays.stream(s).average().orElse(0); }
    public double getStdDev() {
      long[] s = sorted();
      if (s.length < 2) return 0;
      double m = Arrays.stream(s).average().orElse(0);
      return Math.sqrt(Arrays.stream(s).mapToDouble(x -> (x - m) * (x - m)).sum() / (s.length - 1));
    }
    public double get50thPercentile() { return q(0.50); }
    public double get75thPercentile() { return q(0.75); }
    public double get95thPercentile() { return q(0.95); }
    public double get98thPercentile() { return q(0.98); }
    public double get99thPercentile() { return q(0.99); }
    public double get999thPercentile() { return q(0.999); }
  }

  static ObjectName name(String type, String name) throws Exception {
    return new ObjectName(DOMAIN + ":type=" + type + ",name=" + name);
  }

  // -------------------------------------------------------------------------------------------
  // Logging: logback-like lines "2024-01-01 12:00:00.000 INFO  [main] org.midonet.midolman.Midolman - msg"

  enum Level { DEBUG, INFO, WARN, ERROR }

  static final class Log {
    final PrintStream out;
    final Level threshold;
    final String where;
    Log(PrintStream out, Level threshold, String where) { this.out = out; this.threshold = threshold; this.where = where; }
    static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");
    synchronized void log(Level level, String message) {
      if (level.ordinal() < threshold.ordinal()) return;
      out.printf("%s %-5s [%s] org.midonet.midolman.Midolman - %s%n", LocalDateTime.now().format(TIME), level, Thread.currentThread().getName(), message);
      out.flush();
    }
    void debug(String m) { log(Level.DEBUG, m); }
    void info(String m) { log(Level.INFO, m); }
    void warn(String m) { log(Level.WARN, m); }
    void error(String m) { log(Level.ERROR, m); }
  }

  /** The logback XML subset the stand-in honours: the first appender's <file>, the root level. */
  static Log openLog() throws Exception {
    String config = System.getProperty("logback.configurationFile");
    if (config == null) return new Log(System.err, Level.INFO, "stderr");
    DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
    factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
    factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    Document doc = factory.newDocumentBuilder().parse(new File(config));
    String file = null;
    NodeList files = doc.getElementsByTagName("file");
    if (files.getLength() > 0) file = files.item(0).getTextContent().trim();
    Level level = Level.INFO;
    NodeList roots = doc.getElementsByTagName("root");
    if (roots.getLength() > 0) {
      String l = ((Element) roots.item(0)).getAttribute("level").trim().toUpperCase();
      if (!l.isEmpty()) level = Level.valueOf(l);
    }
    if (file == null || file.isEmpty()) return new Log(System.err, level, "stderr");
    OutputStream stream = new FileOutputStream(file, true);
    return new Log(new PrintStream(stream, true, StandardCharsets.UTF_8), level, file);
  }

  // -------------------------------------------------------------------------------------------
  // Build identity (the jar's MANIFEST) and midolman.conf

  /** Main attributes of the MANIFEST of the jar this class was loaded from; empty when run from source. */
  static Attributes buildManifest() {
    try {
      var source = MidolmanStandin.class.getProtectionDomain().getCodeSource();
      if (source == null) return new Attributes();
      File jar = new File(source.getLocation().toURI());
      if (!jar.isFile()) return new Attributes();
      try (JarFile jf = new JarFile(jar)) {
        Manifest m = jf.getManifest();
        return m == null ? new Attributes() : m.getMainAttributes();
      }
    } catch (Exception e) {
      return new Attributes();
    }
  }

  /** git.commit.id of the git.properties resource the build put in the jar (as MidoNet's git.gradle); null without one. */
  static String gitRevision() {
    try (var in = MidolmanStandin.class.getResourceAsStream("/git.properties")) {
      if (in == null) return null;
      var props = new java.util.Properties();
      props.load(in);
      return props.getProperty("git.commit.id");
    } catch (IOException e) {
      return null;
    }
  }

  /** INI sections -> key -> value ('#' and ';' start comments). */
  static Map<String, Map<String, String>> readIni(Path file) throws IOException {
    Map<String, Map<String, String>> out = new LinkedHashMap<>();
    String section = "";
    for (String raw : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      String line = raw.replaceFirst("\\s*[#;].*$", "").trim();
      if (line.isEmpty()) continue;
      if (line.startsWith("[") && line.endsWith("]")) {
        section = line.substring(1, line.length() - 1).trim();
        continue;
      }
      int eq = line.indexOf('=');
      if (eq <= 0) throw new IllegalArgumentException(file + ": not 'key = value': " + raw);
      out.computeIfAbsent(section, k -> new LinkedHashMap<>()).put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
    }
    return out;
  }

  static String sha256(Path file) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
  }

  public static void main(String[] args) throws Exception {
    String pidFile = null;
    long pps = 500;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--pid-file" -> pidFile = args[++i];
        case "--pps" -> pps = Long.parseLong(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument: " + args[i]);
      }
    }
    Log log = openLog();
    Attributes build = buildManifest();
    String version = build.getValue("Implementation-Version");
    String revision = gitRevision();
    log.info("midolman stand-in starting: version " + (version == null ? "(from source)" : version)
        + (revision == null ? "" : ", revision " + revision) + ", pid " + ProcessHandle.current().pid()
        + ", JVM " + System.getProperty("java.version") + ", max heap " + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB; logging to " + log.where);
    String failure = build.getValue("Standin-Startup-Failure");
    if (failure != null) {
      // A broken build: it fails a moment after it started, as an agent that cannot set itself up.
      Thread.sleep(700);
      log.error("Midolman failed to start: " + failure);
      log.error("java.lang.IllegalStateException: " + failure);
      log.error("\tat org.midonet.midolman.Midolman.main(Midolman.scala:142)");
      System.exit(1);
    }
    String conf = System.getProperty("midolman.conf");
    if (conf != null) {
      Path path = Path.of(conf);
      Map<String, Map<String, String>> ini = readIni(path);
      log.info("configuration " + conf + " sha256 " + sha256(path) + ": sections " + ini.keySet());
      String p = ini.getOrDefault("standin", Map.of()).get("pps");
      if (p != null) pps = Long.parseLong(p);
      for (var section : ini.entrySet()) {
        for (var e : section.getValue().entrySet()) log.debug("config [" + section.getKey() + "] " + e.getKey() + " = " + e.getValue());
      }
    }
    long latencyNs = 40_000;
    String latency = build.getValue("Standin-Simulation-Latency-Ns");
    if (latency != null) latencyNs = Long.parseLong(latency);

    MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    Meter processed = new Meter(), simulated = new Meter(), flowsCreated = new Meter();
    Counter dropped = new Counter();
    Gauge dpFlows = new Gauge(), wcFlows = new Gauge();
    Histogram histogram = new Histogram();
    server.registerMBean(processed, name("PacketPipelineMeter", "packetsProcessed"));
    server.registerMBean(simulated, name("PacketPipelineMeter", "packetsSimulated"));
    server.registerMBean(dropped, name("PacketPipelineCounter", "packetsDropped"));
    server.registerMBean(histogram, name("PacketPipelineHistogram", "simulationLatency"));
    server.registerMBean(dpFlows, name("FlowTablesGauge", "currentDatapathFlows"));
    server.registerMBean(wcFlows, name("FlowTablesGauge", "currentWildcardFlows"));
    server.registerMBean(flowsCreated, name("FlowTablesMeter", "wildcardFlowsCreated"));
    if (pidFile != null) {
      Path target = Path.of(pidFile), tmp = Path.of(pidFile + ".tmp");
      Files.writeString(tmp, ProcessHandle.current().pid() + "\n");
      Files.move(tmp, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> log.info("midolman stand-in stopping (shutdown requested)"), "shutdown"));
    log.info("midolman stand-in started: " + pps + " simulated packets/s, mean simulation latency " + latencyNs + " ns; MBeans registered under " + DOMAIN);
    // The "pipeline": every 100 ms, pps/10 packets are "processed"; each simulated packet
    // creates a flow that expires after ~5 s; latencies are log-normal around latencyNs.
    Random random = new Random(42);
    List<byte[]> flowTable = new ArrayList<>();
    final long perTick = Math.max(1, pps / 10);
    for (long tick = 1; ; tick++) {
      Thread.sleep(100);
      long n = perTick + random.nextInt((int) Math.max(1, perTick / 5));
      long sims = Math.max(1, n / 4);
      processed.mark(n, n * 10.0);
      simulated.mark(sims, sims * 10.0);
      flowsCreated.mark(sims, sims * 10.0);
      if (random.nextInt(50) == 0) dropped.count.incrementAndGet();
      for (int i = 0; i < sims; i++) {
        histogram.update((long) (latencyNs * Math.exp(random.nextGaussian() * 0.5)));
        flowTable.add(new byte[512]); // heap that a flow entry holds
      }
      int maxFlows = (int) (sims * 50);
      while (flowTable.size() > maxFlows) flowTable.remove(0);
      wcFlows.value = flowTable.size();
      dpFlows.value = flowTable.size() * 2L;
      if (tick % 100 == 0) log.debug("pipeline: " + processed.getCount() + " packets processed, " + flowTable.size() + " wildcard flows");
    }
  }
}
