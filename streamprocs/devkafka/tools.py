"""Finding the JDK and Maven the dev broker needs, with install hints when they are missing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from streamprocs.devkafka.errors import DevKafkaConfigError

#: Kafka 3.9 brokers run on Java 11+; 17 is what we test with and recommend.
MIN_JAVA_MAJOR = 11
JDK_HINT = "install a JDK 17+, e.g. `apt-get install openjdk-17-jdk-headless`"
MAVEN_HINT = "install Maven, e.g. `apt-get install maven`"

#: `java -version` only starts a JVM and prints; 30 s is far beyond a loaded box's worst case
#: and only stops a hung JVM from hanging `dce dev up` forever.
JAVA_VERSION_TIMEOUT_S = 30.0

_VERSION_RE = re.compile(r'version "(\d+)(?:\.(\d+))?')


def find_java() -> str:
    """`$JAVA_HOME/bin/java` when set, else `java` on PATH."""
    java_home = os.environ.get("JAVA_HOME", "")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("java")
    if found is None:
        raise DevKafkaConfigError(f"no `java` on PATH (and no usable $JAVA_HOME): {JDK_HINT}")
    return found


def find_maven() -> str:
    found = shutil.which("mvn")
    if found is None:
        raise DevKafkaConfigError(
            f"no `mvn` on PATH; it is needed once to fetch the Kafka jars: {MAVEN_HINT}"
        )
    return found


def parse_java_major(version_output: str) -> int | None:
    """The major version from `java -version` output (`1.8.0_x` -> 8, `17.0.15` -> 17)."""
    match = _VERSION_RE.search(version_output)
    if match is None:
        return None
    first = int(match.group(1))
    return int(match.group(2) or 0) if first == 1 else first


def check_java(java: str) -> int:
    """Fail with an install hint unless `java` runs and is new enough; returns its major."""
    try:
        done = subprocess.run(
            [java, "-version"],
            capture_output=True,
            text=True,
            timeout=JAVA_VERSION_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DevKafkaConfigError(f"`{java} -version` failed ({exc}): {JDK_HINT}") from exc
    major = parse_java_major(done.stderr + done.stdout)
    if done.returncode != 0 or major is None:
        raise DevKafkaConfigError(f"`{java} -version` did not report a Java version: {JDK_HINT}")
    if major < MIN_JAVA_MAJOR:
        raise DevKafkaConfigError(
            f"{java} is Java {major}; Kafka needs Java {MIN_JAVA_MAJOR}+: {JDK_HINT}"
        )
    return major
