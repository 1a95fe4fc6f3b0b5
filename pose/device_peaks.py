"""Pre- and post-processing beside the network, in PyTorch (on the GPU where the network runs).

The CPU path (:mod:`pose.preprocess`, :mod:`pose.peaks`) resizes each frame with OpenCV, gets
back the 57-channel output and upsamples, smooths and searches 18 heatmaps per frame. Here the
same steps run on the network's device, on whole batches:

- :func:`upload_frames`: uint8 BGR frames go up as they are (through pinned memory,
  asynchronously), 1/4 of the bytes of the float32 network input;
- :func:`resize_frames`: bicubic resize to the network size (OpenCV's INTER_CUBIC kernel,
  a = -0.75, pixel centres aligned), rounded and clipped to 0..255 as OpenCV's uint8 resize is;
- :func:`find_batch_peaks`: heatmap upsampling (bicubic), the separable Gaussian (the same
  kernel, reflect-101 borders), 3x3 non-maximum suppression, the threshold, the first-of-plateau
  rule and the sub-pixel parabola of :func:`pose.peaks.find_peaks`, in float32 whatever the
  network's precision. What comes back to the CPU is each frame's peaks (a few hundred numbers)
  and its 38 PAF channels at the network's output resolution, which PAF scoring samples
  (:class:`pose.assembly.PeaksAndPafs`); the 18 heatmaps, upsampled 4x in area, stay on the
  device.

OpenCV's uint8 resize works in fixed point, so a pixel can differ from :func:`resize_frames`'s by
one grey level; the people found are the same (tests/pose/test_pose_device_peaks.py).
"""
from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from pose.assembly import AssemblyParams, PeaksAndPafs
from pose.peaks import Peaks
from pose.skeleton import NUM_PARTS

_PAF_START = NUM_PARTS + 1


def upload_frames(images: list[np.ndarray], device: torch.device) -> torch.Tensor:
    """uint8 (H, W, 3) BGR frames of one size -> uint8 [N, H, W, 3] on ``device`` (pinned host
    memory and a non-blocking copy when it is a GPU)."""
    batch = torch.from_numpy(np.stack(images) if len(images) > 1 else images[0][np.newaxis])
    if device.type == "cuda":
        return batch.pin_memory().to(device, non_blocking=True)
    return batch


def resize_frames(frames: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """uint8 [N, H, W, 3] -> float32 NCHW [N, 3, h, w] at ``size`` = (w, h), 0..255 integers
    (BGR, as the network wants them)."""
    x = frames.permute(0, 3, 1, 2).float()
    width, height = size
    if (x.shape[2], x.shape[3]) != (height, width):
        x = F.interpolate(x, size=(height, width), mode="bicubic", align_corners=False)
        x = x.round_().clamp_(0.0, 255.0)
    return x


def _gaussian(sigma: float, device: torch.device) -> torch.Tensor | None:
    """OpenCV's kernel for :func:`pose.peaks.smooth` (radius round(3 sigma)), or None for none."""
    if sigma <= 0:
        return None
    radius = max(1, int(round(3.0 * sigma)))
    kernel = cv2.getGaussianKernel(2 * radius + 1, sigma, cv2.CV_32F).reshape(-1)
    return torch.from_numpy(kernel).to(device)


def _smooth(maps: torch.Tensor, kernel: torch.Tensor | None) -> torch.Tensor:
    """Separable blur of float32 [N, C, H, W] with reflect-101 borders (OpenCV's default)."""
    if kernel is None:
        return maps
    n, c, h, w = maps.shape
    radius = kernel.numel() // 2
    flat = maps.reshape(n * c, 1, h, w)
    if h > radius and w > radius:
        padded = F.pad(flat, (radius, radius, radius, radius), mode="reflect")
    else:  # a map smaller than the kernel: reflect by index, as OpenCV does
        padded = flat[:, :, _reflect101(h, radius, maps.device)][:, :, :, _reflect101(w, radius, maps.device)]
    out = F.conv2d(padded, kernel.view(1, 1, 1, -1))
    out = F.conv2d(out, kernel.view(1, 1, -1, 1))
    return out.reshape(n, c, h, w)


def _reflect101(size: int, radius: int, device: torch.device) -> torch.Tensor:
    index = np.arange(-radius, size + radius)
    if size == 1:
        return torch.zeros(len(index), dtype=torch.long, device=device)
    period = 2 * (size - 1)
    index = np.abs(index) % period
    index = np.where(index >= size, period - index, index)
    return torch.from_numpy(index).to(device)


def _plateau_firsts(smoothed: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``mask`` without the maxima that tie with a neighbour before them in raster order (W, NW,
    N, NE), as :func:`pose.peaks._first_of_plateau`."""
    h, w = smoothed.shape[2:]
    padded = F.pad(smoothed, (1, 1, 1, 0), value=float("nan"))  # NaN equals nothing
    for dy, dx in ((0, -1), (-1, -1), (-1, 0), (-1, 1)):
        neighbour = padded[:, :, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
        mask = mask & (neighbour != smoothed)
    return mask


def _parabola(maps: torch.Tensor, n, c, y, x, *, axis: int) -> torch.Tensor:  # noqa: ANN001
    """Sub-pixel shift along ``axis`` (3 = x, 2 = y) of the peaks at (n, c, y, x), in [-0.5, 0.5]."""
    size = maps.shape[axis]
    if size < 2:
        return torch.zeros(n.shape, dtype=torch.float32, device=maps.device)
    pos = x if axis == 3 else y
    before = torch.where(pos > 0, pos - 1, pos + 1)
    after = torch.where(pos < size - 1, pos + 1, pos - 1)
    if axis == 3:
        lo, hi = maps[n, c, y, before], maps[n, c, y, after]
    else:
        lo, hi = maps[n, c, before, x], maps[n, c, after, x]
    mid = maps[n, c, y, x]
    curvature = lo + hi - 2.0 * mid
    bent = curvature < -1e-12
    safe = torch.where(bent, curvature, torch.full_like(curvature, -1.0))
    shift = torch.where(bent, 0.5 * (lo - hi) / safe, torch.zeros_like(curvature))
    return shift.clamp(-0.5, 0.5)


def find_batch_peaks(output: torch.Tensor, *, upsample: int, params: AssemblyParams) -> list[PeaksAndPafs]:
    """Each frame's peaks and PAFs from a batch of network outputs.

    output: [N, 57, h, w] (any float dtype, on any device): channels 0-17 heatmaps, 19-56 PAFs.
    Returns one :class:`~pose.assembly.PeaksAndPafs` per frame, on the CPU, equal to what
    :class:`~pose.assembly.NetworkOutputParser` finds from the same output up to float rounding.
    """
    heat = output[:, :NUM_PARTS].float()
    if upsample > 1:
        heat = F.interpolate(heat, scale_factor=upsample, mode="bicubic", align_corners=False)
    smoothed = _smooth(heat, _gaussian(params.blur_sigma * upsample, heat.device))
    local_max = F.max_pool2d(smoothed, 3, stride=1, padding=1)
    mask = (smoothed > params.peak_threshold) & (smoothed == local_max)
    mask = _plateau_firsts(smoothed, mask)
    n, c, y, x = torch.nonzero(mask, as_tuple=True)  # ordered by frame, part, then row-major
    score = heat[n, c, y, x]
    fx, fy = x.float(), y.float()
    if params.subpixel and n.numel():
        fx = fx + _parabola(smoothed, n, c, y, x, axis=3)
        fy = fy + _parabola(smoothed, n, c, y, x, axis=2)
    pafs = output[:, _PAF_START:].float().permute(0, 2, 3, 1)
    found = torch.stack([n.float(), c.float(), fx, fy, score], dim=1).cpu().numpy()
    pafs = pafs.contiguous().cpu().numpy()  # one copy back for the batch (synchronises)
    frame = found[:, 0].astype(np.int64)
    bounds = np.searchsorted(frame, np.arange(output.shape[0] + 1))
    result = []
    for i in range(output.shape[0]):
        rows = found[bounds[i]:bounds[i + 1]]
        part = rows[:, 1].astype(np.int64)
        peaks = Peaks(part=part, x=rows[:, 2].astype(np.float32), y=rows[:, 3].astype(np.float32),
                      score=rows[:, 4].astype(np.float32),
                      offsets=np.searchsorted(part, np.arange(NUM_PARTS + 1)).astype(np.int64))
        result.append(PeaksAndPafs(peaks=peaks, pafs=pafs[i]))
    return result
