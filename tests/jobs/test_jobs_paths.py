from __future__ import annotations

import os
import stat

import pytest

from config import Settings
from jobs import check_job_id, output_dir, remove_job_files, upload_path
from jobs.paths import make_service_folders
from filenames import safe_file_name


def test_paths_use_the_job_id_never_a_file_name(tmp_path):
    settings = Settings(uploads_dir=tmp_path / "up", outputs_dir=tmp_path / "out",
                        instance_dir=tmp_path / "inst", secret_key="x")
    assert upload_path(settings, "AbC_-9") == tmp_path / "up" / "AbC_-9" / "source"
    assert output_dir(settings, "AbC_-9") == tmp_path / "out" / "AbC_-9"
    for bad in ("../etc", "a/b", "", ".", "a b", "x" * 65):
        with pytest.raises(ValueError, match="not a valid job id"):
            check_job_id(bad)


def test_remove_job_files(tmp_path):
    settings = Settings(uploads_dir=tmp_path / "up", outputs_dir=tmp_path / "out",
                        instance_dir=tmp_path / "inst", secret_key="x")
    upload_path(settings, "j1").parent.mkdir(parents=True)
    upload_path(settings, "j1").write_bytes(b"v")
    (output_dir(settings, "j1") / "screenshots").mkdir(parents=True)
    (output_dir(settings, "j2")).mkdir(parents=True)
    partial = tmp_path / "out" / ".j1.partial-abc"  # a pipeline run's temp folder
    other_partial = tmp_path / "out" / ".j10.partial-abc"  # job j10's, not j1's
    partial.mkdir()
    other_partial.mkdir()
    remove_job_files(settings, "j1")
    assert not upload_path(settings, "j1").parent.exists()
    assert not output_dir(settings, "j1").exists() and output_dir(settings, "j2").exists()
    assert not partial.exists() and other_partial.exists()


def test_service_folders_are_made_private_also_those_written_before(tmp_path):
    settings = Settings(uploads_dir=tmp_path / "up", outputs_dir=tmp_path / "out",
                        instance_dir=tmp_path / "inst", secret_key="x")
    old = os.umask(0o022)
    try:
        (tmp_path / "out" / "j1").mkdir(parents=True)  # a job from before, world-readable
        make_service_folders(settings)
        assert os.umask(0o022) == 0o077
        for folder in ("up", "out", "inst"):
            assert stat.S_IMODE((tmp_path / folder).stat().st_mode) == 0o700, folder
        assert stat.S_IMODE((tmp_path / "out" / "j1").stat().st_mode) == 0o755  # shut in by out/
    finally:
        os.umask(old)


@pytest.mark.parametrize("name, safe", [
    ("clip.mp4", "clip.mp4"), ("..\\..\\win.mp4", "win.mp4"), ("a/b/../c.mov", "c.mov"),
    ("x\r\ny: z.mp4", "x_y_ z.mp4"), ('"q" <b>.mp4', "_q_ _b_.mp4"), ("fête.mp4", "fête.mp4"),
    ("..", "video"), ("", "video"), (None, "video"), ("cafe\u0301.mp4", "caf\u00e9.mp4"),
])
def test_safe_file_name(name, safe):
    assert safe_file_name(name) == safe


@pytest.mark.parametrize("char", ["a", "é", "日", "𠀀"])  # 1, 2, 3 and 4 bytes of UTF-8
def test_a_long_name_is_cut_to_255_bytes_keeping_its_extension(char):
    name = safe_file_name(char * 300 + ".mp4")
    assert name.endswith(char + ".mp4") and 251 < len(name.encode()) <= 255
    assert safe_file_name("x." + char * 300).startswith("x.")  # no extension that long: all one name
    assert len(safe_file_name("x." + char * 300).encode()) <= 255


def test_the_job_store_imports_neither_the_pipeline_nor_the_web_app(modules_loaded_by) -> None:
    """Enqueueing a job (web app) must not load the model's stack; jobs sits above the pipeline."""
    assert modules_loaded_by("jobs", {"cv2", "numpy", "pose", "tracking", "videoio", "workers", "web",
                                      "flask", "celery"}) == []
