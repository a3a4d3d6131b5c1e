"""Fetching the broker's jars from Maven Central, once, into a per-user cache.

Layout under the cache root (`~/.cache/dce` by default):
  kafka-3.9.1/libs/    the jars; complete only when it holds the marker file
  maven-repo/          Maven's local repository, private to dce so a fetch never depends on,
                       nor pollutes, the user's ~/.m2
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from streamprocs.devkafka.config import KAFKA_VERSION
from streamprocs.devkafka.errors import DevKafkaError
from streamprocs.devkafka.locks import exclusive
from streamprocs.devkafka.paths import cache_root
from streamprocs.devkafka.tools import find_maven

#: Written last, holding the POM's digest: a dir without it (an interrupted fetch) or with
#: another digest (the POM changed) is fetched again.
MARKER = ".dce-complete"

#: Jars whose absence means the fetch did not give us a runnable broker.
REQUIRED_JARS = (
    f"kafka_2.13-{KAFKA_VERSION}.jar",
    f"kafka-clients-{KAFKA_VERSION}.jar",
    "slf4j-reload4j-1.7.36.jar",
    "reload4j-1.2.25.jar",
)

#: A cold fetch downloads ~70 MB (46 MB of jars plus Maven's plugins) and takes seconds on a
#: good link. 15 minutes tolerates a slow mirror yet stops a stalled download from eating
#: CI's whole 90-minute budget.
MAVEN_TIMEOUT_S = 900.0

#: Lines of Maven output quoted when it fails: enough for the error and its cause.
_TAIL_LINES = 30

Progress = Callable[[str], None]


def pom_bytes() -> bytes:
    """The POM shipped inside the package (the single source the code reads)."""
    return resources.files("streamprocs.devkafka").joinpath("pom.xml").read_bytes()


def kafka_dir(cache: Path) -> Path:
    return cache / f"kafka-{KAFKA_VERSION}"


def libs_dir(cache: Path) -> Path:
    return kafka_dir(cache) / "libs"


def maven_repo(cache: Path) -> Path:
    return cache / "maven-repo"


def maven_command(mvn: str, pom: Path, output_dir: Path, repo: Path) -> list[str]:
    return [
        mvn,
        "-B",
        "--no-transfer-progress",
        "-f",
        str(pom),
        f"-Dmaven.repo.local={repo}",
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={output_dir}",
    ]


def drop_logback(libs: Path) -> list[str]:
    """Delete any logback jar: a second SLF4J binding would win over reload4j at random."""
    dropped = sorted(jar.name for jar in libs.glob("logback-*.jar"))
    for name in dropped:
        (libs / name).unlink()
    return dropped


def libs_complete(libs: Path, digest: str) -> bool:
    marker = libs / MARKER
    try:
        recorded = marker.read_text(encoding="ascii").strip()
    except OSError:
        return False
    return recorded == digest and all((libs / jar).is_file() for jar in REQUIRED_JARS)


def ensure_jars(cache: Path | None = None, progress: Progress | None = None) -> Path:
    """The dir of broker jars, fetched with Maven first if absent. Idempotent and cheap."""
    root = cache if cache is not None else cache_root()
    pom = pom_bytes()
    digest = hashlib.sha256(pom).hexdigest()
    libs = libs_dir(root)
    if libs_complete(libs, digest):
        return libs
    # Two `dce dev up` (or two pytest sessions) on a cold cache must not both write the dir.
    with exclusive(kafka_dir(root) / ".lock"):
        if libs_complete(libs, digest):  # another process fetched while we waited
            return libs
        mvn = find_maven()
        if progress is not None:
            progress(f"fetching Kafka {KAFKA_VERSION} jars with Maven into {libs} (once)")
        _fetch(mvn, pom, digest, root)
    return libs


def _fetch(mvn: str, pom: bytes, digest: str, root: Path) -> None:
    work = kafka_dir(root) / "fetch"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    # Maven runs on a copy: the packaged POM may sit in a read-only site-packages.
    pom_path = work / "pom.xml"
    pom_path.write_bytes(pom)
    fetched = work / "libs"
    command = maven_command(mvn, pom_path, fetched, maven_repo(root))
    try:
        done = subprocess.run(
            command,
            cwd=work,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=MAVEN_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise DevKafkaError(
            f"Maven did not finish fetching the Kafka jars within {MAVEN_TIMEOUT_S:.0f} s; "
            "check that Maven Central (or your mirror in ~/.m2/settings.xml) is reachable"
        ) from exc
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-_TAIL_LINES:])
        raise DevKafkaError(
            f"Maven failed to fetch the Kafka jars (exit {done.returncode}):\n{tail}"
        )
    drop_logback(fetched)
    missing = [jar for jar in REQUIRED_JARS if not (fetched / jar).is_file()]
    if missing:
        raise DevKafkaError(f"Maven finished but these jars are missing: {', '.join(missing)}")
    (fetched / MARKER).write_text(digest + "\n", encoding="ascii")
    libs = libs_dir(root)
    shutil.rmtree(libs, ignore_errors=True)
    fetched.rename(libs)
    shutil.rmtree(work, ignore_errors=True)
