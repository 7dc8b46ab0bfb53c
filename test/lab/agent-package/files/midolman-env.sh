# shellcheck shell=sh disable=SC2034 # sourced: sets JVM_OPTS for midolman-start
# /etc/midolman/midolman-env.sh: the agent's JVM options, sourced by /usr/share/midolman/midolman-start
# (as midolman's own midolman-env.sh is). A conffile: a profile may replace it for a test.
# The lab's stand-in package (test/lab/agent-package/), not MidoNet's.

# Heap: fixed size, as the real agent runs.
MAX_HEAP_SIZE="96M"
HEAP_NEWSIZE="32M"
JVM_OPTS="$JVM_OPTS -Xms${MAX_HEAP_SIZE} -Xmx${MAX_HEAP_SIZE} -Xmn${HEAP_NEWSIZE}"
JVM_OPTS="$JVM_OPTS -XX:+UseG1GC -XX:+HeapDumpOnOutOfMemoryError -XX:HeapDumpPath=/var/lib/midolman"

# GC log: one file per start of the agent, as midolman's -Xloggc:/var/log/midolman/gc-<time>.log.
GC_LOG="/var/log/midolman/gc-$(date +%Y%m%d_%H%M%S).log"
JVM_OPTS="$JVM_OPTS -Xlog:gc*:file=${GC_LOG}:time,uptime,level,tags"

# JMX: on the loopback address only, port 7200 (midolman's), no authentication.
JMX_PORT="7200"
JVM_OPTS="$JVM_OPTS -Dcom.sun.management.jmxremote.port=${JMX_PORT} -Dcom.sun.management.jmxremote.rmi.port=${JMX_PORT}"
JVM_OPTS="$JVM_OPTS -Dcom.sun.management.jmxremote.host=127.0.0.1 -Djava.rmi.server.hostname=127.0.0.1"
JVM_OPTS="$JVM_OPTS -Dcom.sun.management.jmxremote.authenticate=false -Dcom.sun.management.jmxremote.ssl=false"
