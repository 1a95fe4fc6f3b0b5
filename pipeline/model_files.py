"""Which pose models are installed on this machine: :mod:`pose.registry` looked up in this
install's folders (the adapter that knows where they are; the registry itself is pure).

- the project's models folder: the folder of ``Settings.model_path`` (``models/`` by default);
- mediapipe's ``modules/pose_landmark/``, found without importing mediapipe;
- the torch hub cache: ``$TORCH_HOME/hub``, else ``$XDG_CACHE_HOME/torch/hub``, else
  ``~/.cache/torch/hub`` (what ``torch.hub.get_dir()`` answers, without importing torch).
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Mapping

from pose.registry import MODELS, ModelFiles, find_model


def mediapipe_model_dir() -> Path | None:
    """The installed mediapipe's ``modules/pose_landmark/``, or None without mediapipe."""
    try:
        spec = importlib.util.find_spec("mediapipe")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "modules" / "pose_landmark"


def torch_hub_dir(env: Mapping[str, str] | None = None) -> Path:
    """torch's hub folder, as ``torch.hub.get_dir()`` would answer it (without importing torch)."""
    env = os.environ if env is None else env
    if env.get("TORCH_HOME"):
        return Path(env["TORCH_HOME"]).expanduser() / "hub"
    cache = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "torch" / "hub"


def models_dir(model_path: Path) -> Path:
    """The project's models folder: where the OpenPose graph ``model_path`` lies."""
    return Path(model_path).parent


def model_files(name: str, model_path: Path) -> ModelFiles:
    """Where model ``name``'s files are here (``model_path``: the OpenPose graph's path, whose
    folder holds the other models' files too). Raises KeyError for an unknown name."""
    files = find_model(name, models_dir=models_dir(model_path), mediapipe_dir=mediapipe_model_dir(),
                       torch_hub_dir=torch_hub_dir())
    if name == "openpose" and Path(model_path).name != "graph_opt.pb":  # POSESTUDIO_MODEL_PATH names the file
        path = Path(model_path)
        found = (path,) if path.is_file() else ()
        return ModelFiles(files.entry, path.parent, found, () if found else (path.name,))
    return files


def all_model_files(model_path: Path) -> list[ModelFiles]:
    """Every registered model, installed or not, in the registry's order."""
    return [model_files(entry.name, model_path) for entry in MODELS]


def installed_models(model_path: Path) -> tuple[str, ...]:
    """The names of the models whose files and Python packages are all here."""
    return tuple(files.entry.name for files in all_model_files(model_path)
                 if files.installed and runtime_missing(files.entry.name) is None)


def not_installed_line(name: str, model_path: Path) -> str | None:
    """None when model ``name`` can run here; else one line saying what is missing and where it
    goes. Raises KeyError for an unknown name."""
    files = model_files(name, model_path)
    return files.missing_line() if not files.installed else runtime_missing(name)


def runtime_missing(name: str) -> str | None:
    """What a model needs besides its files that is not installed here (one line), or None."""
    needs = {"blazepose": ("mediapipe",), "keypointrcnn": ("torch", "torchvision")}
    key = "blazepose" if name.startswith("blazepose") else name
    for package in needs.get(key, ()):
        if importlib.util.find_spec(package) is None:
            return f"the {name} model needs the Python package {package}, which is not installed here"
    return None
