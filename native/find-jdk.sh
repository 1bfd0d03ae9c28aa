#!/usr/bin/env bash
# Prints the home of a JDK >= 22 (the Foreign Function & Memory API is final from 22): $SDJ_JAVA_HOME, then
# $JAVA_HOME, then the JDK that 'java' on PATH belongs to, then the usual install locations. Exits 1 with a message
# naming every place it looked when none is found.
set -u
major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/{print $2; exit}'; }
looked=()
try() {
  local h=$1
  [ -n "$h" ] || return 1
  looked+=("$h")
  [ -x "$h/bin/java" ] && [ -x "$h/bin/javac" ] || return 1
  local m; m=$(major "$h"); [ -n "$m" ] && [ "${m%%.*}" -ge 22 ] 2>/dev/null || return 1
  echo "$h"; exit 0
}
try "${SDJ_JAVA_HOME:-}"
try "${JAVA_HOME:-}"
if command -v java >/dev/null; then try "$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"; fi
for h in /usr/lib/jvm/temurin-25* /usr/lib/jvm/java-25* /usr/lib/jvm/jdk-25* /usr/lib/jvm/*-2[2-9]* /usr/lib/jvm/*-3[0-9]* \
         /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
  [ -d "$h" ] && try "$h"
done
{
  echo "sdj needs a JDK 22 or newer (Java 25 recommended) and found none."
  echo "Looked at: ${looked[*]:-(nothing)}"
  echo "Install one (e.g. Temurin 25) and set JAVA_HOME or SDJ_JAVA_HOME to it."
} >&2
exit 1
