// JmxCollector: reads configured MBean attributes from a JVM over JMX (RMI) every interval and
// prints one JSON line per sample. Single source file, run with `java JmxCollector.java ARGS`
// (Java 11+). Part of the midolman scenario's collectors (remote-scripts/midolman).
//
//   java JmxCollector.java --url service:jmx:rmi:///jndi/rmi://127.0.0.1:7200/jmxrmi \
//        --config mbeans.conf [--interval-ms 1000] [--count N]
//
// Config: one series per line, fields separated by '|', '#' starts a comment:
//   alias | object name (may be a pattern, e.g. name=*) | attribute[.compositeKey] | rrd type
// In a pattern line, "{key}" in the alias is replaced by that key of each matching name.
// Output (stdout), JSON lines:
//   {"kind":"sample","t":1700000000.123,"values":{"alias":1.5,...}}
//   {"kind":"types","t":...,"types":{"alias":"GAUGE",...}}   (RRD data-source type of each series, when new ones appear)
//   {"kind":"missing","t":...,"items":[{"alias":..,"object":..,"attribute":..,"reason":..}]}  (when the set changes)
//   {"kind":"error","t":...,"message":..}   (connection problems; it retries every interval)
// A missing MBean or attribute is reported, never fatal. Ends on SIGTERM or after --count samples.
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

public class JmxCollector {
  record Query(String alias, ObjectName name, String attribute, String key, String type) {}

  static String json(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        default -> {
          if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
          else b.append(c);
        }
      }
    }
    return b.append('"').toString();
  }

  static String now() {
    return String.format("%.3f", System.currentTimeMillis() / 1000.0);
  }

  static List<Query> readConfig(Path file) throws Exception {
    List<Query> out = new ArrayList<>();
    int lineNo = 0;
    for (String raw : Files.readAllLines(file)) {
      lineNo++;
      String line = raw.replaceFirst("\\s*#.*$", "").trim();
      if (line.isEmpty()) continue;
      String[] f = line.split("\\s*\\|\\s*");
      if (f.length != 4) throw new IllegalArgumentException(file + ":" + lineNo + ": want 4 fields separated by '|', got " + f.length);
      String attr = f[2], key = null;
      int dot = attr.indexOf('.');
      if (dot > 0) { key = attr.substring(dot + 1); attr = attr.substring(0, dot); }
      out.add(new Query(f[0], new ObjectName(f[1]), attr, key, f[3]));
    }
    return out;
  }

  static Double number(Object v) {
    if (v instanceof Number n) return n.doubleValue();
    if (v instanceof Boolean b) return b ? 1.0 : 0.0;
    return null;
  }

  static String alias(Query q, ObjectName actual) {
    String a = q.alias();
    for (Map.Entry<String, String> e : actual.getKeyPropertyList().entrySet()) {
      a = a.replace("{" + e.getKey() + "}", e.getValue());
    }
    return a.replaceAll("[^A-Za-z0-9_.-]", "_");
  }

  public static void main(String[] args) throws Exception {
    String url = null, config = null;
    long intervalMs = 1000, count = Long.MAX_VALUE;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--url" -> url = args[++i];
        case "--config" -> config = args[++i];
        case "--interval-ms" -> intervalMs = Long.parseLong(args[++i]);
        case "--count" -> count = Long.parseLong(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument: " + args[i]);
      }
    }
    if (url == null || config == null) throw new IllegalArgumentException("usage: JmxCollector --url URL --config FILE [--interval-ms N] [--count N]");
    List<Query> queries = readConfig(Path.of(config));
    JMXServiceURL serviceUrl = new JMXServiceURL(url);
    JMXConnector connector = null;
    String lastMissing = null;
    Map<String, String> types = new LinkedHashMap<>();
    long next = System.currentTimeMillis();
    for (long n = 0; n < count; ) {
      long sleep = next - System.currentTimeMillis();
      if (sleep > 0) Thread.sleep(sleep);
      next += intervalMs;
      try {
        if (connector == null) connector = JMXConnectorFactory.connect(serviceUrl, null);
        MBeanServerConnection conn = connector.getMBeanServerConnection();
        Map<String, Double> values = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        boolean newTypes = false;
        String t = now();
        for (Query q : queries) {
          Set<ObjectName> names = q.name().isPattern() ? new TreeSet<>(conn.queryNames(q.name(), null)) : Set.of(q.name());
          if (names.isEmpty()) {
            missing.add(missingItem(q, "no MBean matches"));
            continue;
          }
          for (ObjectName actual : names) {
            try {
              Object v = conn.getAttribute(actual, q.attribute());
              if (q.key() != null) v = v instanceof CompositeData cd && cd.containsKey(q.key()) ? cd.get(q.key()) : null;
              Double d = number(v);
              if (d == null || d.isNaN() || d.isInfinite()) missing.add(missingItem(q, "not a number"));
              else {
                String a = alias(q, actual);
                values.put(a, d);
                if (!types.containsKey(a)) {
                  types.put(a, q.type());
                  newTypes = true;
                }
              }
            } catch (javax.management.InstanceNotFoundException e) {
              missing.add(missingItem(q, "no such MBean"));
            } catch (javax.management.AttributeNotFoundException e) {
              missing.add(missingItem(q, "no such attribute"));
            }
          }
        }
        String missingJson = String.join(",", missing);
        if (!missingJson.equals(lastMissing)) {
          System.out.println("{\"kind\":\"missing\",\"t\":" + t + ",\"items\":[" + missingJson + "]}");
          lastMissing = missingJson;
        }
        if (newTypes) {
          StringBuilder tb = new StringBuilder("{\"kind\":\"types\",\"t\":" + t + ",\"types\":{");
          String ts = "";
          for (Map.Entry<String, String> e : types.entrySet()) {
            tb.append(ts).append(json(e.getKey())).append(':').append(json(e.getValue()));
            ts = ",";
          }
          System.out.println(tb.append("}}"));
        }
        StringBuilder b = new StringBuilder("{\"kind\":\"sample\",\"t\":" + t + ",\"values\":{");
        String sep = "";
        for (Map.Entry<String, Double> e : values.entrySet()) {
          b.append(sep).append(json(e.getKey())).append(':').append(e.getValue());
          sep = ",";
        }
        System.out.println(b.append("}}"));
        System.out.flush();
        n++;
      } catch (IOException | SecurityException e) {
        System.out.println("{\"kind\":\"error\",\"t\":" + now() + ",\"message\":" + json(String.valueOf(e)) + "}");
        System.out.flush();
        if (connector != null) {
          try { connector.close(); } catch (IOException ignored) { }
          connector = null;
        }
      }
    }
    if (connector != null) connector.close();
  }

  static String missingItem(Query q, String reason) {
    return "{\"alias\":" + json(q.alias()) + ",\"object\":" + json(q.name().toString()) + ",\"attribute\":"
        + json(q.attribute() + (q.key() != null ? "." + q.key() : "")) + ",\"reason\":" + json(reason) + "}";
  }
}
