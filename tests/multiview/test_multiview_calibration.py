"""Calibrations: Qualisys .qca.txt and Pose2Sim's Calib.toml read, Calib.toml written back,
and checked against the videos (multiview.calibration, multiview.check)."""
from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from multiview.calibration import parse_qca, read_calibration, rotate_view, write_toml
from multiview.check import check_calibration, match_views
from multiview.errors import CalibrationError

NAMES = [f"cam0{i}.mp4" for i in range(1, 5)]
SIZES = [(1080, 1920)] * 4


@pytest.fixture(scope="module")
def qca(shared_data) -> Path:
    return shared_data / "multiview" / "pose2sim_single" / "Calib.qca.txt"


def test_qualisys_is_read_in_pixels_metres_and_opencv_axes(qca) -> None:
    cameras = read_calibration(qca)
    assert [c.name for c in cameras] == ["cam01", "cam02", "cam03", "cam04"]
    cam = cameras[0]
    assert cam.size == (1088, 1920)  # fov_video right - left + 1, bottom - top + 1
    assert cam.K[0, 0] == pytest.approx(107599.671875 / 64) and cam.K[1, 2] == pytest.approx(60680.792969 / 64)
    assert np.allclose(cam.centre, [1.4602323709, -1.9091590482, 1.8965058524])  # mm -> m
    for c in cameras:
        assert np.allclose(c.R @ c.R.T, np.eye(3), atol=1e-9)
        # every camera looks down towards the scene (Z up), from above it
        assert c.axis[2] < 0 and c.centre[2] > 1.5


def test_calib_toml_written_is_pose2sims_format_and_reads_back_the_same(qca, tmp_path) -> None:
    cameras = read_calibration(qca)
    path = tmp_path / "Calib.toml"
    write_toml(path, cameras)
    table = tomllib.loads(path.read_text())
    assert set(table) == {"cam01", "cam02", "cam03", "cam04", "metadata"}
    assert set(table["cam01"]) == {"name", "size", "matrix", "distortions", "rotation", "translation", "fisheye"}
    assert len(table["cam01"]["rotation"]) == 3 and np.shape(table["cam01"]["matrix"]) == (3, 3)
    again = read_calibration(path)
    for a, b in zip(cameras, again):
        assert a.name == b.name and a.size == b.size
        assert np.allclose(a.K, b.K) and np.allclose(a.dist, b.dist)
        assert np.allclose(a.R, b.R, atol=1e-12) and np.allclose(a.t, b.t)
        point = np.array([-0.9, 0.1, 1.0])
        assert np.allclose(a.project(point), b.project(point), atol=1e-6)


def test_a_quarter_turned_view_sees_the_same_points_turned(qca) -> None:
    cam = read_calibration(qca)[0]
    turned = rotate_view(cam, 90)
    assert turned.size == (1920, 1088)
    points = np.array([[-0.9, 0.1, 1.0], [-1.2, -0.3, 0.2], [-0.5, 0.4, 1.6]])
    u, v = cam.project(points).T
    expected = np.stack([cam.size[1] - 1 - v, u], axis=1)  # clockwise: (u, v) -> (h - 1 - v, u)
    assert np.allclose(turned.project(points), expected, atol=1e-6)
    assert np.allclose(rotate_view(turned, 270).project(points), cam.project(points), atol=1e-6)


def test_viewrotation_in_a_qca_file_turns_the_camera(qca) -> None:
    text = qca.read_text().replace('serial="cam02" viewrotation="0"', 'serial="cam02" viewrotation="90"')
    cameras = parse_qca(text)
    assert cameras[1].size == (1920, 1088) and cameras[0].size == (1088, 1920)


def test_the_demo_fits_its_videos_with_the_codec_padding_warned(qca) -> None:
    checked = check_calibration(read_calibration(qca), NAMES, SIZES)
    assert [c.size for c in checked.cameras] == SIZES
    assert len(checked.warnings) == 4 and "cam01" in checked.warnings[0]
    assert np.all(np.isfinite(checked.scene_centre))


def test_videos_are_matched_to_cameras_by_name_whatever_their_order(qca) -> None:
    cameras = read_calibration(qca)
    names = ["cam_03.mp4", "trial_cam01.mp4", "cam4-take2.mp4", "CAM02.MOV"]
    assert [c.name for c in match_views(cameras, ["cam3.mp4", "cam01_take2.mp4", "cam04.mp4", "CAM02.MOV"])] == \
        ["cam03", "cam01", "cam04", "cam02"]
    with pytest.raises(CalibrationError, match="trial_cam01.mp4"):
        match_views(cameras, names)


@pytest.mark.parametrize("names, sizes, message", [
    (["cam01.mp4", "cam02.mp4", "cam07.mp4"], SIZES[:3], "no camera in the calibration for cam07.mp4"),
    (NAMES, [(1080, 1920), (720, 1280), (1080, 1920), (1080, 1920)], "camera cam02 is calibrated at 1088x1920 but cam02.mp4 is 720x1280"),
    (NAMES, [(1080, 1920), (1080, 1920), (1920, 1080), (1080, 1920)], "camera cam03 .* turned a quarter"),
    (["cam01.mp4", "cam01.mov"], SIZES[:2], "same camera"),
])
def test_a_calibration_that_does_not_fit_names_the_camera(qca, names, sizes, message) -> None:
    with pytest.raises(CalibrationError, match=message):
        check_calibration(read_calibration(qca), names, sizes)


def test_a_camera_that_looks_away_is_named(qca) -> None:
    text = qca.read_text()
    start = text.index('serial="cam04"')
    block = text[start:]
    # turn cam04 around: its rotation rows negated in x and z (still a rotation)
    for key in ("r11", "r12", "r13", "r31", "r32", "r33"):
        marker = f'{key}="'
        i = block.index(marker) + len(marker)
        j = block.index('"', i)
        value = float(block[i:j])
        block = block[:i] + repr(-value) + block[j:]
    cameras = parse_qca(text[:start] + block)
    with pytest.raises(CalibrationError, match="camera cam04 does not look at the scene"):
        check_calibration(cameras, NAMES, SIZES)


@pytest.mark.parametrize("content, message", [
    ("name,fx,fy\ncam01,1,1\n", "not a calibration this reads"),
    ("<calibration><cameras/></calibration>", "no <cameras><camera>"),
    ("<calibration", "not well-formed XML"),
    ('[cam01]\nname = "cam01"\nsize = [1080, 1920]\n', "camera 'cam01' has no 'matrix'"),
    ("[metadata]\nerror = 0.0\n", "no camera in the calibration"),
])
def test_an_unknown_or_broken_calibration_is_a_clear_error(tmp_path, content, message) -> None:
    path = tmp_path / "calib.txt"
    path.write_text(content)
    with pytest.raises(CalibrationError, match=message):
        read_calibration(path)
