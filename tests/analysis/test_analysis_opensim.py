"""The .trc and .mot writers, read back by readers written from OpenSim's descriptions."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis import write_mot, write_trc
from opensim_readers import read_mot, read_trc


def test_trc_round_trip(tmp_path: Path) -> None:
    positions = np.arange(4 * 2 * 3, dtype=np.float64).reshape(4, 2, 3) + 0.25
    positions[2, 1] = np.nan  # the second marker unseen in the third frame
    path = tmp_path / "walk.trc"
    write_trc(path, frame_numbers=np.arange(11, 15), times_s=np.arange(10, 14) / 25.0, markers=["RKnee", "LKnee"],
              positions=positions, rate_hz=25.0, units="px")
    trc = read_trc(path)
    assert trc.path_line[:3] == ["PathFileType", "4", "(X/Y/Z)"] and trc.path_line[3] == "walk.trc"
    assert trc.header == {"DataRate": "25", "CameraRate": "25", "NumFrames": "4", "NumMarkers": "2",
                          "Units": "px", "OrigDataRate": "25", "OrigDataStartFrame": "11", "OrigNumFrames": "4"}
    assert trc.markers == ["RKnee", "LKnee"]
    np.testing.assert_array_equal(trc.frame_numbers, [11, 12, 13, 14])
    # t - t0 = (f - OrigDataStartFrame) / DataRate
    np.testing.assert_allclose(trc.times - trc.times[0], (trc.frame_numbers - 11) / 25.0)
    np.testing.assert_allclose(trc.positions, positions, atol=1e-5)
    assert path.read_text().split("\n")[8].endswith("14.25000\t\t\t")  # unseen: three empty fields


def test_mot_round_trip(tmp_path: Path) -> None:
    values = np.array([[10.0, -5.5], [np.nan, 181.25], [12.0, 190.0]])
    path = tmp_path / "angles.mot"
    write_mot(path, times_s=np.array([0.0, 0.04, 0.08]), columns=["right_knee", "trunk"], values=values,
              name="person_1_angles")
    mot = read_mot(path)
    assert mot.name == "person_1_angles"
    assert mot.header == {"version": "1", "nRows": "3", "nColumns": "3", "inDegrees": "yes"}
    assert mot.columns == ["time", "right_knee", "trunk"]
    np.testing.assert_allclose(mot.data[:, 0], [0.0, 0.04, 0.08])
    np.testing.assert_allclose(mot.data[:, 1:], values)


def test_names_with_whitespace_and_bad_shapes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="without whitespace"):
        write_mot(tmp_path / "a.mot", times_s=np.zeros(1), columns=["right knee"], values=np.zeros((1, 1)), name="x")
    with pytest.raises(ValueError, match=r"positions must be \(1, 1, 3\)"):
        write_trc(tmp_path / "a.trc", frame_numbers=np.ones(1), times_s=np.zeros(1), markers=["Nose"],
                  positions=np.zeros((1, 2, 3)), rate_hz=30.0, units="px")
