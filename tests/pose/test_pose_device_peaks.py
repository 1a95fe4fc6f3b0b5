"""The resize and the peak finding beside the network (pose.device_peaks, on CPU torch here)
find the same peaks and the same people as the CPU path (OpenCV resize, pose.peaks), on real
frames (vtest.avi, COCO images) and on hand-made heatmaps for the edge cases (plateaus, borders,
maps smaller than the blur)."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed (make test-setup installs the CPU build where "
                                            "its wheel is on disk; make setup-torch elsewhere)")

from pose import PoseEstimator, load_backend  # noqa: E402
from pose.assembly import AssemblyParams, NetworkOutputParser, upsample_heatmaps  # noqa: E402
from pose.backends import CPU  # noqa: E402
from pose.backends.onnx_model import onnx_path_for  # noqa: E402
from pose.device_estimator import DevicePoseEstimator  # noqa: E402
from pose.device_peaks import find_batch_peaks, resize_frames, upload_frames  # noqa: E402
from pose.peaks import find_peaks, smooth  # noqa: E402
from pose.preprocess import prepare_input  # noqa: E402

COCO_IMAGES = ("000000000785.jpg", "000000030752.jpg")


@pytest.fixture(scope="module")
def backend(model_path: Path):
    if not onnx_path_for(model_path).is_file():
        pytest.skip("graph_opt.onnx not found: run `make onnx` (make test-setup does)")
    return load_backend("torch", model_path, device=CPU)


@pytest.fixture(scope="module")
def images(videos_dir: Path, shared_data: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(videos_dir / "vtest.avi"))
    found = []
    for index in range(261):
        ok, frame = capture.read()
        assert ok
        if index in (0, 260):
            found.append(frame)
    capture.release()
    return found + [cv2.imread(str(shared_data / "coco" / "images" / name)) for name in COCO_IMAGES]


def _cpu_peaks(raw: np.ndarray, upsample: int, params: AssemblyParams):
    heat = upsample_heatmaps(raw, upsample)
    return find_peaks(smooth(heat, params.blur_sigma * upsample), threshold=params.peak_threshold, scores=heat,
                      subpixel=params.subpixel)


def test_the_device_resize_is_opencvs_within_one_grey_level(images) -> None:
    for image in images:
        prepared = prepare_input(image, net_height=368)
        device = resize_frames(upload_frames([image], torch.device("cpu")), prepared.network_size)
        got = device.permute(0, 2, 3, 1).numpy()
        assert got.shape == prepared.tensor.shape
        difference = np.abs(got - prepared.tensor)
        assert difference.max() <= 1.0 and (difference > 0).mean() < 0.01


@pytest.mark.parametrize("upsample", [1, 2, 4])
def test_the_same_peaks_as_the_cpu_on_real_frames(backend, images, upsample) -> None:
    params = AssemblyParams()
    prepared = [prepare_input(image, net_height=368, net_width=432) for image in images]
    raw = backend.infer(np.concatenate([p.tensor for p in prepared]))
    with torch.inference_mode():
        found = find_batch_peaks(torch.from_numpy(raw).permute(0, 3, 1, 2), upsample=upsample, params=params)
    assert len(found) == len(images)
    for i, item in enumerate(found):
        expected = _cpu_peaks(raw[i], upsample, params)
        assert len(expected) > 10, i
        assert np.array_equal(item.peaks.part, expected.part) and np.array_equal(item.peaks.offsets, expected.offsets)
        assert np.abs(item.peaks.x - expected.x).max() <= 1e-3 and np.abs(item.peaks.y - expected.y).max() <= 1e-3
        assert np.abs(item.peaks.score - expected.score).max() <= 1e-5
        assert np.array_equal(item.pafs, raw[i, :, :, 19:])


def _same_people(a: list, b: list, *, tolerance_px: float) -> None:
    assert len(a) == len(b)
    for p, q in zip(a, b):
        assert np.array_equal(p.visible, q.visible)
        assert np.abs(p.keypoints[p.visible, :2] - q.keypoints[q.visible, :2]).max() <= tolerance_px
        assert abs(p.score - q.score) <= 1e-2


def test_the_same_people_as_todays_cpu_post_processing(backend, images) -> None:
    """From the same network output: exactly the same people (PAF assembly stays exact)."""
    cpu = PoseEstimator(backend, net_height=368)
    device = DevicePoseEstimator(backend, net_height=368)
    total = 0
    for image in images:
        prepared = cpu.preprocess(image)
        raw = cpu.infer(prepared)
        expected = cpu.postprocess(raw, prepared)
        with torch.inference_mode():
            (found,) = find_batch_peaks(torch.from_numpy(raw[None]).permute(0, 3, 1, 2), upsample=cpu.upsample,
                                        params=cpu.params)
        _same_people(device.postprocess(found, prepared.geometry), expected, tolerance_px=1e-3)
        total += len(expected)
    assert total >= 6


def test_end_to_end_the_same_people_as_the_cpu_path(backend, images) -> None:
    """Resize, network and peaks on the device, a batch of frames of one size at once, against
    OpenCV's resize and the CPU post-processing one frame at a time: the resize may differ by a
    grey level here and there, which moves parts by a fraction of a pixel."""
    cpu = PoseEstimator(backend, net_height=368)
    device = DevicePoseEstimator(backend, net_height=368)
    video = images[:2]
    got = [device.postprocess(out, p) for out, p in
           zip(device.infer_batch([device.preprocess(f) for f in video]), [device.preprocess(f) for f in video])]
    got += [device.estimate(image) for image in images[2:]]
    for image, people in zip(images, got):
        _same_people(people, cpu.estimate(image), tolerance_px=1.0)


def _hand_made_output(heat: np.ndarray) -> np.ndarray:
    raw = np.zeros(heat.shape[:2] + (57,), np.float32)
    raw[:, :, :heat.shape[2]] = heat
    return raw


def _compare(raw: np.ndarray, upsample: int, params: AssemblyParams) -> None:
    with torch.inference_mode():
        (found,) = find_batch_peaks(torch.from_numpy(raw[None]).permute(0, 3, 1, 2), upsample=upsample, params=params)
    expected = _cpu_peaks(raw, upsample, params)
    assert np.array_equal(found.peaks.part, expected.part), (upsample, params.blur_sigma)
    assert np.abs(found.peaks.x - expected.x).max(initial=0) <= 1e-3
    assert np.abs(found.peaks.y - expected.y).max(initial=0) <= 1e-3
    parser = NetworkOutputParser(upsample=upsample, params=params)
    assert len(parser(found)) == len(parser(raw))


SHAPES = [(12, 16), (3, 5), (1, 1), (2, 9)]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_plateaus_ties_and_borders(shape) -> None:
    """Unblurred, so that ties are exact: the first pixel of a plateau, a corner peak."""
    heat = np.zeros(shape + (18,), np.float32)
    heat[..., 0] = 0.5  # one flat plateau over the whole map: its first pixel only
    heat[0, -1, 1] = 0.9  # a corner peak
    heat[..., 2] = np.random.default_rng(sum(shape)).uniform(0, 1, shape).round(1)  # many ties
    _compare(_hand_made_output(heat), 1, AssemblyParams(blur_sigma=0.0))


@pytest.mark.parametrize("shape", SHAPES[:2] + [(2, 3), (2, 9)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_blurred_maps_smaller_than_the_kernel(shape) -> None:
    """A blur's float rounding differs between the two (summation order), so a blurred flat
    plateau (a 1x1 map upsampled) has arbitrary maxima on both: these maps have none."""
    heat = np.random.default_rng(sum(shape)).uniform(0, 1, shape + (18,)).astype(np.float32)
    for upsample in (1, 2, 4):
        _compare(_hand_made_output(heat), upsample, AssemblyParams())


def test_a_batch_of_frames_without_people_gives_empty_peaks() -> None:
    raw = torch.zeros((3, 57, 6, 8))
    found = find_batch_peaks(raw, upsample=2, params=AssemblyParams())
    assert [len(f.peaks) for f in found] == [0, 0, 0]
    assert all(f.pafs.shape == (6, 8, 38) for f in found)
    assert json.dumps([NetworkOutputParser()(f) for f in found]) == "[[], [], []]"
