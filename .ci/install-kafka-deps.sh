#!/usr/bin/env bash
# Installs what `dce dev up` (and so the integration tests) needs on a fresh Debian 12
# machine: a JDK to run the Kafka broker and Maven to fetch its jars once.
# Does nothing when `java` and `mvn` are already on PATH. CI runs it as root.
set -euo pipefail

packages=()
command -v java >/dev/null 2>&1 || packages+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || packages+=(maven)

if [ "${#packages[@]}" -eq 0 ]; then
  echo "install-kafka-deps: java and mvn already present"
  exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  as_root=(sudo)
fi

echo "install-kafka-deps: installing ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
# Slim Debian images drop /usr/share/man, and the JDK's postinst then fails registering its
# man pages with update-alternatives; an empty dir is enough.
"${as_root[@]}" mkdir -p /usr/share/man/man1
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null

java -version 2>&1 | head -n 1
mvn -v 2>&1 | head -n 1
