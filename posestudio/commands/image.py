"""``posestudio image FILE... --out DIR`` and ``posestudio images DIR --coco-results OUT.json``.

``image`` writes, per input, ``DIR/<name>.jpg`` (the skeletons drawn on the image) and
``DIR/<name>.json`` (image size and every person: 18 named keypoints, COCO-17 flat keypoints,
score, box). ``images`` runs every image directly inside DIR and writes COCO keypoint results
(``image_id`` = the integer in the file name) that pycocotools can score.

A bad input (not an image, empty, truncated, too small, ...) costs one line on stderr naming the
file and the reason; the other inputs are still processed and the exit code is 1.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterable

import config
from pose.assembly import DEFAULT_UPSAMPLE
from posestudio.inference import add_backend_flags, resolve

# AssemblyParams fields offered as flags: (flag, field, type, help).
_THRESHOLD_FLAGS: tuple[tuple[str, str, type, str], ...] = (
    ("--peak-threshold", "peak_threshold", float, "least smoothed heatmap value for a part peak"),
    ("--paf-sample-threshold", "paf_sample_threshold", float, "least PAF alignment for a limb sample to agree"),
    ("--paf-min-fraction", "paf_min_fraction", float, "least fraction of agreeing samples for a limb"),
    ("--min-parts", "min_parts", int, "drop people with fewer parts"),
    ("--min-mean-score", "min_mean_score", float, "drop people whose mean part+limb score is lower"),
)


def register(subparsers: argparse._SubParsersAction) -> None:
    image = subparsers.add_parser(
        "image", help="find people's skeletons in image files: annotated image + JSON per input",
        description="Detect every person in each FILE and write DIR/<name>.jpg (skeletons drawn) "
        "and DIR/<name>.json (image size; per person: score, box, 18 named keypoints as "
        "[x, y, confidence] in image pixels or null when missing, and the 51 COCO-17 values).",
    )
    image.add_argument("files", nargs="+", type=Path, metavar="FILE", help="image files (JPEG, PNG, ...)")
    image.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder (created if needed)")
    image.add_argument("--skeleton-only", action="store_true", help="draw the skeletons on black")
    _add_engine_options(image)
    image.set_defaults(run=run_image)

    images = subparsers.add_parser(
        "images", help="COCO keypoint results for every image in a folder",
        description="Detect every person in each image directly inside DIR and write OUT.json as "
        "COCO keypoint results (image_id = the integer in the file name, category_id 1, 51 "
        "keypoint values, score), ready for pycocotools' COCOeval.",
    )
    images.add_argument("directory", type=Path, metavar="DIR", help="folder of images, e.g. 000000000785.jpg")
    images.add_argument("--coco-results", type=Path, required=True, metavar="OUT.json", help="results file to write")
    images.add_argument("--out", type=Path, metavar="DIR", help="also write the annotated image and JSON per input here")
    _add_engine_options(images)
    images.set_defaults(run=run_images, skeleton_only=False)


def _add_engine_options(parser: argparse.ArgumentParser) -> None:
    engine = parser.add_argument_group("engine")
    add_backend_flags(engine)
    engine.add_argument("--precision", choices=("f32", "bf16", "fp16"), default="f32",
                        help="f32 (default, exact), bf16 (openvino only: faster, moves some keypoints) or fp16 "
                             "(onnxruntime on a GPU with TensorRT)")
    engine.add_argument("--net-height", type=_multiple_of_8, default=368, metavar="H",
                        help="network input height, multiple of 8; width follows the image's aspect (default: %(default)s)")
    engine.add_argument("--net-size", type=_net_size, metavar="WxH", help="fixed network input size instead, e.g. 432x368")
    engine.add_argument("--upsample", type=_positive_int, default=DEFAULT_UPSAMPLE, metavar="N",
                        help="heatmap upsampling before peak finding (default: %(default)s)")
    engine.add_argument("--quality", choices=("fast", "balanced", "accurate"), default="balanced",
                        help="fast (0.75 of the network height), balanced (default: one pass) or accurate "
                             "(4 scales, 0.75 to 1.5, and the mirror, averaged: ~11x the work, +0.05 COCO AP)")
    engine.add_argument("--model", type=Path, default=config.DEFAULT_MODEL_PATH, help="graph_opt.pb (default: %(default)s)")
    thresholds = parser.add_argument_group("assembly thresholds (defaults: pose.AssemblyParams)")
    for flag, field, kind, text in _THRESHOLD_FLAGS:
        thresholds.add_argument(flag, dest=field, type=kind, metavar="N" if kind is int else "X", help=text)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _multiple_of_8(text: str) -> int:
    value = _positive_int(text)
    if value % 8:
        raise argparse.ArgumentTypeError(f"must be a multiple of 8 (the network's stride), got {value}")
    return value


def _net_size(text: str) -> tuple[int, int]:
    width, sep, height = text.lower().partition("x")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected WxH such as 432x368, got {text!r}")
    return _multiple_of_8(width), _multiple_of_8(height)


def _build_estimator(args: argparse.Namespace, device: Any) -> Any:
    """The PoseEstimator (MultiScaleEstimator for a quality other than balanced) the flags
    describe, on ``device`` (a resolved pose Device); raises PoseError or ValueError with a
    clear message."""
    from pose import AssemblyParams, PoseEstimator, load_backend
    from pose.multiscale import DEFAULT_QUALITY, MultiScaleEstimator, quality_augmentation

    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(AssemblyParams)
                 if getattr(args, f.name, None) is not None}
    params = AssemblyParams(**overrides)
    net_width, net_height = args.net_size if args.net_size else (None, args.net_height)
    backend = load_backend(args.backend, args.model, device=device, precision=args.precision)
    if args.quality != DEFAULT_QUALITY:
        return MultiScaleEstimator(backend, quality_augmentation(args.quality), net_height=net_height,
                                   net_width=net_width, upsample=args.upsample, params=params)
    return PoseEstimator(backend, net_height=net_height, net_width=net_width, upsample=args.upsample, params=params)


def person_record(person: Any) -> dict[str, Any]:
    """One person as JSON: score, box, named keypoints ([x, y, conf] or None), COCO-17 values."""
    from pose import PART_NAMES

    keypoints = {name: ([round(float(x), 2), round(float(y), 2), round(float(c), 4)] if c > 0 else None)
                 for name, (x, y, c) in zip(PART_NAMES, person.keypoints)}
    return {
        "score": round(float(person.score), 4),
        "num_parts": person.num_parts,
        "box": [round(v, 2) for v in person.box],
        "keypoints": keypoints,
        "coco_keypoints": person.coco_keypoints_flat(),
    }


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temp file and a rename; raises OSError."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; results are ordinary files
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class _ImageRunner:
    """Runs the estimator over files, reporting bad ones on stderr and carrying on."""

    def __init__(self, prog: str, estimator: Any, out_dir: Path | None, skeleton_only: bool,
                 inputs: Iterable[Path], quality: str = "balanced") -> None:
        from pose import SkeletonAnnotator

        self.prog, self.estimator, self.out_dir, self.skeleton_only = prog, estimator, out_dir, skeleton_only
        self.quality = quality
        self.annotator = SkeletonAnnotator()
        self.failures = 0
        self._used_names: set[str] = set()
        self._inputs = {path.resolve() for path in inputs}  # outputs must never overwrite one

    def error(self, message: str) -> None:
        print(f"{self.prog}: {message}", file=sys.stderr)
        self.failures += 1

    def process(self, path: Path) -> list[Any] | None:
        """The persons in ``path`` (and its outputs written), or None after reporting an error."""
        import cv2
        from pose import PoseError, read_image

        try:
            image = read_image(path)
            persons = self.estimator.estimate(image)
        except PoseError as exc:
            message = str(exc)
            self.error(message if str(path) in message else f"{path}: {message}")
            return None
        if self.out_dir is not None:
            name = self._output_name(path, self.out_dir)
            annotated = self.annotator.annotate(image, persons, skeleton_only=self.skeleton_only)
            if not cv2.imwrite(str(self.out_dir / f"{name}.jpg"), annotated, [cv2.IMWRITE_JPEG_QUALITY, 90]):
                self.error(f"{path}: could not write {self.out_dir / (name + '.jpg')}")
                return None
            record = {"image": str(path), "width": image.shape[1], "height": image.shape[0],
                      "engine": self._engine_record(image), "people": [person_record(p) for p in persons]}
            try:
                _write_atomically(self.out_dir / f"{name}.json", json.dumps(record, indent=1) + "\n")
            except OSError as exc:
                self.error(f"{path}: could not write {self.out_dir / (name + '.json')} ({exc.strerror or exc})")
                return None
        return persons

    def _engine_record(self, image: Any) -> dict[str, Any]:
        from pose import network_input_size

        est = self.estimator
        width, height = network_input_size(image.shape[1], image.shape[0], net_height=est.net_height,
                                           net_width=est.net_width)
        record = {"backend": est.backend.name, "precision": est.backend.precision, "device": est.backend.device,
                  "network_input": [width, height], "upsample": est.upsample, "quality": "balanced"}
        augmentation = getattr(est, "augmentation", None)
        if augmentation is not None:  # a quality preset of several passes (pose.multiscale)
            sizes = est.input_sizes(image.shape[1], image.shape[0])
            record.update(quality=self.quality, network_inputs=[list(s) for s in sizes], flip=augmentation.flip)
        return record

    def _output_name(self, path: Path, out_dir: Path) -> str:
        """``path``'s stem, with -2, -3, ... added when another input already took it or when
        ``<name>.jpg`` / ``<name>.json`` in ``out_dir`` is one of the inputs (``--out`` may be
        the inputs' own folder)."""
        def names_an_input(name: str) -> bool:
            return any((out_dir / f"{name}{suffix}").resolve() in self._inputs for suffix in (".jpg", ".json"))

        name, n = path.stem, 2
        while name in self._used_names or names_an_input(name):
            name, n = f"{path.stem}-{n}", n + 1
        self._used_names.add(name)
        return name


def _start(prog: str, args: argparse.Namespace, out_dir: Path | None,
           inputs: Iterable[Path]) -> _ImageRunner | int:
    """The runner, or the exit code after one line on stderr (2: the device cannot be had)."""
    from pose import PoseError

    args.backend = args.backend or "openvino"
    resolved = resolve(prog, args.backend, args.device)
    if isinstance(resolved, int):
        return resolved
    try:
        estimator = _build_estimator(args, resolved[0])
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
    except (PoseError, ValueError, OSError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    return _ImageRunner(prog, estimator, out_dir, args.skeleton_only, inputs, quality=args.quality)


def run_image(args: argparse.Namespace) -> int:
    runner = _start("posestudio image", args, args.out, args.files)
    if isinstance(runner, int):
        return runner
    for path in args.files:
        runner.process(path)
    done = len(args.files) - runner.failures
    print(f"{done} of {len(args.files)} images processed into {args.out}")
    return 1 if runner.failures else 0


def image_id_from_name(path: Path) -> int | None:
    """The last run of digits in the file name's stem (``000000000785.jpg`` -> 785), or None."""
    numbers = re.findall(r"\d+", path.stem)
    return int(numbers[-1]) if numbers else None


def run_images(args: argparse.Namespace) -> int:
    from pose.imagefile import IMAGE_SUFFIXES, list_images

    prog = "posestudio images"
    try:
        paths = list_images(args.directory)
    except OSError as exc:
        print(f"{prog}: {args.directory}: cannot list the folder ({exc.strerror})", file=sys.stderr)
        return 1
    if not paths:
        kinds = ", ".join(sorted(IMAGE_SUFFIXES))
        print(f"{prog}: {args.directory}: no image files in this folder (looked for {kinds})", file=sys.stderr)
        return 1
    runner = _start(prog, args, args.out, paths)
    if isinstance(runner, int):
        return runner
    results = list(_coco_results(runner, paths))
    try:
        args.coco_results.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(args.coco_results, json.dumps(results) + "\n")
    except OSError as exc:
        print(f"{prog}: {args.coco_results}: cannot write ({exc.strerror})", file=sys.stderr)
        return 1
    print(f"{len(paths) - runner.failures} of {len(paths)} images processed; "
          f"{len(results)} people written to {args.coco_results}")
    return 1 if runner.failures else 0


def _coco_results(runner: _ImageRunner, paths: Iterable[Path]) -> Iterable[dict[str, Any]]:
    for path in paths:
        image_id = image_id_from_name(path)
        if image_id is None:
            runner.error(f"{path}: no number in the file name to use as the COCO image_id")
            continue
        for person in runner.process(path) or []:
            yield {"image_id": image_id, "category_id": 1,
                   "keypoints": person.coco_keypoints_flat(), "score": round(float(person.score), 4)}
