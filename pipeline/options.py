"""The user-facing options of one video job, validated once at the edge (web form, CLI, queue)."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Callable, Mapping

from analysis.angles import parse_angle_option
from pose.assembly import DEFAULT_UPSAMPLE
from pose.models import MODEL_NAMES, MODEL_SKELETONS
from pose.multiscale import DEFAULT_QUALITY, QUALITY_NAMES

BACKEND_NAMES = ("openvino", "onnxruntime", "opencv", "torch")
SMOOTHING_CHOICES = ("off", "light", "strong")
PRECISION_NAMES = ("f32", "bf16", "fp16")
# Precisions other than f32 and the backends that run each (bf16: openvino on a CPU with bf16,
# torch on a GPU; fp16: onnxruntime on a GPU with TensorRT, torch on a GPU; the backend says so
# when the device cannot).
_PRECISION_BACKENDS = {"bf16": ("openvino", "torch"), "fp16": ("onnxruntime", "torch")}
NETWORK_STRIDE = 8
MAX_NET_SIDE = 2048
#: ``net_height="auto"``: chosen per video from the size of its people.
AUTO_NET_HEIGHT = "auto"


@dataclass(frozen=True)
class PipelineOptions:
    """How to process one video.

    model: "openpose" (default: OpenPose mobilenet_thin, 18 parts, every person) or "blazepose"
        (BlazePose GHUM 3D full through MediaPipe: 33 landmarks with 3D world coordinates, one
        person per frame). The settings below up to ``upsample`` are OpenPose's; BlazePose
        takes its input size from the model and ignores them.
    backend / precision: inference backend ("openvino" default, "onnxruntime", "opencv", "torch")
        and its precision ("f32" default, exact; "bf16" openvino or torch on a GPU, faster, less
        exact; "fp16" onnxruntime on a GPU with TensorRT, or torch on a GPU). The device is the worker's (INFERENCE_DEVICE),
        not a job's.
    net_height: network input height in pixels, a multiple of 8, or "auto" (the default): 368,
        raised up to 512 when the people in a few sampled frames are too small for the network
        to see well (``pose.input_size``, ``pipeline.autosize``).
    net_width: fixed network input width (multiple of 8); None (default) follows the video's
        aspect ratio.
    upsample: heatmap upsampling before peak finding (default 2, pose.assembly.DEFAULT_UPSAMPLE).
    quality: "fast" (the network at 0.75 of ``net_height``), "balanced" (the default: one pass
        at ``net_height``) or "accurate" (4 scales, 0.75 to 1.5 of ``net_height``, each also
        mirrored, the outputs averaged before peak finding: about 11x the network's work);
        ``pose.multiscale.QUALITY_PRESETS``. OpenPose only; BlazePose ignores it.
    screenshot_interval_s: an annotated JPEG every this many seconds of video (default 5.0;
        0 = no periodic screenshots, the poster is still written).
    skeleton_only: draw skeletons on black instead of on the video (default False).
    keypoints_only: write the data exports only: no annotated video, no screenshots, no poster
        (default False).
    max_people: keep at most this many people per frame, best scores first (None = all).
    keypoint_threshold: parts with confidence below this are dropped from drawing, tracking
        boxes and exports (default 0.0 = keep every part the assembly found).
    start_s / end_s: process only [start_s, end_s) of the video, in seconds (default: all).
    frame_stride: process every n-th frame of that range (default 1 = every frame).
    max_age / min_hits / iou_threshold: SORT tracker parameters (defaults 3 / 3 / 0.3: SORT's,
        but a track survives 3 missed frames instead of 1, because people's skeletons flicker
        for a frame or two; on MOT15 this raised MOTA and IDF1 on all three sequences,
        ``bench/mot_eval.py --max-age 3``).
    lost_track_buffer_s: how long a lost person's track waits to be found again, in seconds of
        video (default 1.0; replaces ``max_age``, converted with the output frame rate); None
        uses ``max_age`` frames.
    stitch: after the whole video is analysed, link the end of one track to a later one's start
        when they are the same person by time, position and size (default True).
    fill_gaps_s: fill a person's gaps up to this long (seconds) by interpolation, flagged as
        interpolated in every export (default 0.5; 0 = none).
    smoothing: keypoint smoothing per person, zero-phase Butterworth: "off", "light" (6 Hz,
        the default; Sports2D's and Pose2Sim's) or "strong" (3 Hz). Raw values are exported too.
    angles: the joint and segment angles to export per person, names separated by commas
        (``analysis.angles``), or "all" (default: every angle the skeleton allows).
    person_height_m: the height of the person seen longest, in metres (0.3 to 3), to give the
        exports' positions in metres too; None (default) = pixels only.
    overlay_angles: joint angles to draw on the annotated video (an arc and the value at each
        joint, a panel of values per person: ``pipeline.angle_overlay``), names separated by
        commas, or "all" (every joint angle exported); "" (default) = none.
    """

    model: str = "openpose"
    backend: str = "openvino"
    precision: str = "f32"
    net_height: int | str = AUTO_NET_HEIGHT
    net_width: int | None = None
    upsample: int = DEFAULT_UPSAMPLE
    quality: str = DEFAULT_QUALITY
    screenshot_interval_s: float = 5.0
    skeleton_only: bool = False
    keypoints_only: bool = False
    max_people: int | None = None
    keypoint_threshold: float = 0.0
    start_s: float = 0.0
    end_s: float | None = None
    frame_stride: int = 1
    max_age: int = 3
    min_hits: int = 3
    iou_threshold: float = 0.3
    lost_track_buffer_s: float | None = 1.0
    stitch: bool = True
    fill_gaps_s: float = 0.5
    smoothing: str = "light"
    angles: str = "all"
    person_height_m: float | None = None
    overlay_angles: str = ""

    def __post_init__(self) -> None:
        _check_choice("model", self.model, MODEL_NAMES)
        _check_choice("backend", self.backend, BACKEND_NAMES)
        _check_choice("precision", self.precision, PRECISION_NAMES)
        needs = _PRECISION_BACKENDS.get(self.precision)
        if needs and self.backend not in needs:
            raise ValueError(f"precision {_shown(self.precision)} needs the {' or '.join(needs)} backend")
        for name in ("net_height", "net_width"):
            value = getattr(self, name)
            if name == "net_height" and value == AUTO_NET_HEIGHT:
                continue
            if isinstance(value, str):
                raise ValueError(f"{name} must be a multiple of 8 between 32 and {MAX_NET_SIDE}"
                                 + (' or "auto"' if name == "net_height" else "") + f", got {_shown(value)}")
            if value is not None and (value % NETWORK_STRIDE or not NETWORK_STRIDE * 4 <= value <= MAX_NET_SIDE):
                raise ValueError(f"{name} must be a multiple of 8 between 32 and {MAX_NET_SIDE}, got {value}")
        _check_range("upsample", self.upsample, 1, 16)
        _check_choice("quality", self.quality, QUALITY_NAMES)
        _check_range("screenshot_interval_s", self.screenshot_interval_s, 0.0, math.inf)
        if self.max_people is not None:
            _check_range("max_people", self.max_people, 1, 10_000)
        _check_range("keypoint_threshold", self.keypoint_threshold, 0.0, 1.0)
        _check_range("start_s", self.start_s, 0.0, math.inf)
        if self.end_s is not None and not self.end_s > self.start_s:
            raise ValueError(f"end_s ({self.end_s}) must be after start_s ({self.start_s})")
        _check_range("frame_stride", self.frame_stride, 1, 10_000)
        _check_range("max_age", self.max_age, 0, 10_000)
        _check_range("min_hits", self.min_hits, 0, 10_000)
        _check_range("iou_threshold", self.iou_threshold, 0.0, 1.0)
        if self.lost_track_buffer_s is not None:
            _check_range("lost_track_buffer_s", self.lost_track_buffer_s, 0.0, 60.0)
        _check_range("fill_gaps_s", self.fill_gaps_s, 0.0, 10.0)
        _check_choice("smoothing", self.smoothing, SMOOTHING_CHOICES)
        parse_angle_option(self.angles, self.skeleton.part_names)  # raises AngleNameError (a ValueError)
        if self.person_height_m is not None:
            _check_range("person_height_m", self.person_height_m, 0.3, 3.0)
        self.overlay_angle_names()  # raises AngleNameError (a ValueError) for a bad name

    def overlay_angle_names(self) -> tuple[str, ...] | None:
        """The joint angles ``overlay_angles`` asks for: () = none, None = every one exported."""
        text = str(self.overlay_angles or "").strip().lower()
        if text in ("", "none", "off"):
            return ()
        names = parse_angle_option(text, self.skeleton.part_names)
        if names is not None:
            from analysis.angles import BY_NAME, JOINT

            segments = [n for n in names if BY_NAME[n].kind != JOINT]
            if segments:
                raise ValueError(f"overlay_angles draws joint angles only; {', '.join(segments)} "
                                 "is a segment angle")
        return names

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> "PipelineOptions":
        """Build options from strings or numbers (a web form, CLI flags, a queued job's JSON).

        Missing keys and empty strings take the defaults; None clears an optional value.
        Raises ValueError naming the field for unknown keys and for bad or out-of-range values.
        """
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown option(s) {', '.join(_shown(u) for u in unknown[:5])}"
                             f"{f' and {len(unknown) - 5} more' if len(unknown) > 5 else ''}; known: {', '.join(known)}")
        parsed: dict[str, Any] = {}
        for name, raw in values.items():
            if isinstance(raw, str):
                raw = raw.strip()
                if raw == "":
                    continue
            if raw is None:
                if name not in _OPTIONAL:
                    continue
                parsed[name] = None
                continue
            parsed[name] = _PARSERS[name](name, raw)
        return cls(**parsed)

    @property
    def skeleton(self):
        """The :class:`pose.skeleton.Skeleton` of ``model``."""
        return MODEL_SKELETONS[self.model]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready plain values; ``from_mapping(to_dict())`` gives back equal options."""
        return asdict(self)


def _parse_int(name: str, raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError(f"{name} must be a whole number, got {_shown(raw)}")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number, got {_shown(raw)}") from None
    if not value.is_integer():
        raise ValueError(f"{name} must be a whole number, got {_shown(raw)}")
    return int(value)


def _parse_float(name: str, raw: Any) -> float:
    if isinstance(raw, bool):
        raise ValueError(f"{name} must be a number, got {_shown(raw)}")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {_shown(raw)}") from None
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {_shown(raw)}")
    return value


def _parse_bool(name: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be true or false, got {_shown(raw)}")


def _parse_net_height(name: str, raw: Any) -> int | str:
    if isinstance(raw, str) and raw.strip().lower() == AUTO_NET_HEIGHT:
        return AUTO_NET_HEIGHT
    try:
        return _parse_int(name, raw)
    except ValueError:
        raise ValueError(f'{name} must be "auto" or a whole number, got {_shown(raw)}') from None


def _parse_str(name: str, raw: Any) -> str:
    return str(raw).strip().lower()


_PARSERS: dict[str, Callable[[str, Any], Any]] = {
    "model": _parse_str, "backend": _parse_str, "precision": _parse_str,
    "net_height": _parse_net_height, "net_width": _parse_int, "upsample": _parse_int,
    "quality": _parse_str,
    "screenshot_interval_s": _parse_float, "skeleton_only": _parse_bool,
    "keypoints_only": _parse_bool,
    "max_people": _parse_int, "keypoint_threshold": _parse_float,
    "start_s": _parse_float, "end_s": _parse_float, "frame_stride": _parse_int,
    "max_age": _parse_int, "min_hits": _parse_int, "iou_threshold": _parse_float,
    "lost_track_buffer_s": _parse_float, "stitch": _parse_bool, "fill_gaps_s": _parse_float,
    "smoothing": _parse_str, "angles": _parse_str, "person_height_m": _parse_float,
    "overlay_angles": _parse_str,
}
_OPTIONAL = frozenset({"net_width", "max_people", "end_s", "lost_track_buffer_s", "person_height_m"})


#: The most characters of a bad value an error message repeats (a 900,000-character start_s came
#: back whole, in a 900 kB answer).
SHOWN_CHARS = 40


def _shown(value: Any) -> str:
    """``value`` as an error message repeats it: its repr, cut to :data:`SHOWN_CHARS` characters
    with how long it was."""
    text = repr(value)
    if len(text) <= SHOWN_CHARS:
        return text
    return f"{text[:SHOWN_CHARS]}... ({len(str(value)):,} characters)"


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {_shown(value)}")


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        bound = f">= {low}" if high == math.inf else f"between {low} and {high}"
        raise ValueError(f"{name} must be {bound}, got {_shown(value)}")
