"""Test helper: the job-outputs mapping (``workers.tasks.outputs_of``'s shape) read back from a
finished output folder, for tests that fake a finished job or check what a run recorded."""
from __future__ import annotations

from pathlib import Path

from pipeline.frames import POSTER_NAME, SCREENSHOTS_DIR
from workers.tasks import output_keys


def list_outputs(folder: Path) -> dict:
    """The same mapping as :func:`workers.tasks.outputs_of`, read from ``folder``."""
    outputs: dict = {key: name for name, key in output_keys().items() if (folder / name).is_file()}
    shots = folder / SCREENSHOTS_DIR
    if (shots / POSTER_NAME).is_file():
        outputs["poster"] = f"{SCREENSHOTS_DIR}/{POSTER_NAME}"
    outputs["screenshots"] = sorted(f"{SCREENSHOTS_DIR}/{p.name}" for p in shots.glob("*.jpg")
                                    if p.name != POSTER_NAME)
    return outputs
