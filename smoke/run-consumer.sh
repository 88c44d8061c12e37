#!/usr/bin/env bash
# Builds and runs consumer/ (a project outside the reactor) against the ipi4j-core artifact that
# `mvn install` put in the local repository, first on the JDK running this build, then on JDK 25
# if one is installed. The consumer checks its own runtime class path and runs a machine.
set -euo pipefail
version="$1"
run() {
  local label="$1"
  echo "[consumer-smoke] $label: $("$JAVA_HOME/bin/java" -version 2>&1 | head -1)"
  mvn -B -q -f consumer/pom.xml -Dipi4j.version="$version" clean package exec:exec
}
: "${JAVA_HOME:=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}"
export JAVA_HOME
run "default JDK"
jdk25=""
for d in /usr/lib/jvm/*25*; do
  if [ -x "$d/bin/java" ]; then jdk25="$d"; break; fi
done
if [ -n "$jdk25" ]; then
  JAVA_HOME="$jdk25" run "JDK 25"
else
  echo "[consumer-smoke] JDK 25: not installed here, skipped"
fi
