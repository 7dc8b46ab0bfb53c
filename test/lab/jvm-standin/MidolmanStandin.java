// MidolmanStandin: a STAND-IN for the MidoNet agent (midolman) in the local lab. It is NOT
// midolman: it forwards no packets. It is a real JVM that exposes, over real JMX (RMI), MBeans
// shaped like midolman's metrics (Yammer-metrics JmxReporter shapes: meters with Count and rates,
// a histogram with Min/Max/Mean/StdDev/percentiles in nanoseconds, counters, gauges with Value)
// and keeps them changing, and that allocates some heap so heap pools and heap dumps are real.
//
// Run (single-file source, Java 11+), JMX bound to loopback only:
//   java -Xmx64m -Dcom.sun.management.jmxremote.port=PORT -Dcom.sun.management.jmxremote.host=127.0.0.1 \
//        -Dcom.sun.management.jmxremote.rmi.port=PORT -Dcom.sun.management.jmxremote.authenticate=false \
//        -Dcom.sun.management.jmxremote.ssl=false -Djava.rmi.server.hostname=127.0.0.1 \
//        test/lab/jvm-standin/MidolmanStandin.java [--pid-file FILE] [--pps N]
// It writes its PID to --pid-file once its MBeans are registered, and runs until killed.
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.MBeanServer;
import javax.management.ObjectName;

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
    MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    Meter processed = new Meter(), simulated = new Meter(), flowsCreated = new Meter();
    Counter dropped = new Counter();
    Gauge dpFlows = new Gauge(), wcFlows = new Gauge();
    Histogram latency = new Histogram();
    server.registerMBean(processed, name("PacketPipelineMeter", "packetsProcessed"));
    server.registerMBean(simulated, name("PacketPipelineMeter", "packetsSimulated"));
    server.registerMBean(dropped, name("PacketPipelineCounter", "packetsDropped"));
    server.registerMBean(latency, name("PacketPipelineHistogram", "simulationLatency"));
    server.registerMBean(dpFlows, name("FlowTablesGauge", "currentDatapathFlows"));
    server.registerMBean(wcFlows, name("FlowTablesGauge", "currentWildcardFlows"));
    server.registerMBean(flowsCreated, name("FlowTablesMeter", "wildcardFlowsCreated"));
    if (pidFile != null) {
      Path target = Path.of(pidFile), tmp = Path.of(pidFile + ".tmp");
      Files.writeString(tmp, ProcessHandle.current().pid() + "\n");
      Files.move(tmp, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
    // The "pipeline": every 100 ms, pps/10 packets are "processed"; each simulated packet
    // creates a flow that expires after ~5 s; latencies are log-normal around 40 us.
    Random random = new Random(42);
    List<byte[]> flowTable = new ArrayList<>();
    final long perTick = Math.max(1, pps / 10);
    while (true) {
      Thread.sleep(100);
      long n = perTick + random.nextInt((int) Math.max(1, perTick / 5));
      long sims = Math.max(1, n / 4);
      processed.mark(n, n * 10.0);
      simulated.mark(sims, sims * 10.0);
      flowsCreated.mark(sims, sims * 10.0);
      if (random.nextInt(50) == 0) dropped.count.incrementAndGet();
      for (int i = 0; i < sims; i++) {
        latency.update((long) (40_000 * Math.exp(random.nextGaussian() * 0.5)));
        flowTable.add(new byte[512]); // heap that a flow entry holds
      }
      int maxFlows = (int) (sims * 50);
      while (flowTable.size() > maxFlows) flowTable.remove(0);
      wcFlows.value = flowTable.size();
      dpFlows.value = flowTable.size() * 2L;
    }
  }
}
