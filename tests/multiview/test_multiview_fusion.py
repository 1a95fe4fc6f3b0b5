"""People across views, triangulated and tracked: a synthetic scene of three people walking,
projected through the demo's real calibration (synthetic_scene.py), where the truth is known."""
from __future__ import annotations

import numpy as np
import pytest

from multiview.errors import FusionCancelled, FusionError
from multiview.reconstruct import reconstruct
from multiview.tracks3d import Tracking3DSettings
from multiview.views import ViewKeypoints
from synthetic_scene import PARTS, demo_cameras, project_views, three_people, walking

NO_SMOOTHING = Tracking3DSettings(smoothing="off")


@pytest.fixture(scope="module")
def cameras(shared_data):
    return demo_cameras(shared_data)


def _match(result, truth):
    """Each true person's reconstructed person (nearest on average)."""
    out = []
    for person in truth:
        def distance(p):
            common = person[p.frames]
            return np.nanmedian(np.linalg.norm(p.points - common, axis=2))
        out.append(min(result.people, key=distance))
    return out


def test_three_people_at_once_are_found_each_with_one_id_in_metres(cameras) -> None:
    truth = three_people()
    result = reconstruct(cameras, project_views(cameras, truth), offsets=[0, 0, 0, 0], tracking=NO_SMOOTHING)
    assert len(result.people) == 3
    matched = _match(result, truth)
    assert len({p.person for p in matched}) == 3
    assert sorted(p.person for p in result.people) == [1, 2, 3]
    for person, p in zip(truth, matched):
        seen = np.isfinite(p.raw[:, :, 0]).any(axis=1)
        assert seen.sum() >= 0.95 * len(person)
        error = np.linalg.norm(p.raw - person[p.frames], axis=2)
        assert np.nanmedian(error) < 0.01, "median 3D error under 1 cm with 1 px noise"
        assert np.nanmax(error) < 0.05
        assert np.nanmedian(p.error_px) < 3.0
        used = p.views[np.isfinite(p.raw[:, :, 0])]
        assert np.all(used > 0) and np.all(used < 16)
        assert all(bin(int(m)).count("1") >= 2 for m in used)


def test_a_limb_swapped_left_for_right_in_one_view_is_undone(cameras) -> None:
    truth = three_people(60)
    views = project_views(cameras, truth)
    left, right = PARTS.index("left_knee"), PARTS.index("right_knee")
    la, ra = PARTS.index("left_ankle"), PARTS.index("right_ankle")
    swapped = []
    for people in views[2].people:
        people = people.copy()
        people[:, [left, right, la, ra]] = people[:, [right, left, ra, la]]
        swapped.append(people)
    views[2] = ViewKeypoints(views[2].name, views[2].fps, views[2].size, PARTS, tuple(swapped), views[2].track_ids)
    result = reconstruct(cameras, views, offsets=[0, 0, 0, 0], tracking=NO_SMOOTHING)
    for person, p in zip(truth, _match(result, truth)):
        knees = np.linalg.norm(p.raw[:, [left, right, la, ra]] - person[p.frames][:, [left, right, la, ra]], axis=2)
        assert np.nanmedian(knees) < 0.01


def test_a_view_far_off_for_one_point_is_left_out_of_that_point(cameras) -> None:
    truth = three_people(40)
    views = project_views(cameras, truth)
    wrist = PARTS.index("right_wrist")
    moved = []
    for people in views[1].people:
        people = people.copy()
        people[:, wrist, 0] += 80.0
        moved.append(people)
    views[1] = ViewKeypoints(views[1].name, views[1].fps, views[1].size, PARTS, tuple(moved), views[1].track_ids)
    result = reconstruct(cameras, views, offsets=[0, 0, 0, 0], tracking=NO_SMOOTHING)
    for person, p in zip(truth, _match(result, truth)):
        masks = p.views[:, wrist][np.isfinite(p.raw[:, wrist, 0])]
        assert len(masks) and not np.any(masks & 0b10), "view 2 (cam02) is not used for the moved wrist"
        assert np.nanmedian(np.linalg.norm(p.raw[:, wrist] - person[p.frames][:, wrist], axis=1)) < 0.01


def test_a_short_gap_is_filled_flagged_and_smoothing_keeps_the_path(cameras) -> None:
    truth = three_people(90)
    views = project_views(cameras, truth, visible=None)
    gone = range(40, 45)
    cut = []
    for view in views:
        people = list(view.people)
        ids = list(view.track_ids)
        for f in gone:
            keep = ids[f] != 1
            people[f], ids[f] = people[f][keep], ids[f][keep]
        cut.append(ViewKeypoints(view.name, view.fps, view.size, PARTS, tuple(people), tuple(ids)))
    result = reconstruct(cameras, cut, offsets=[0, 0, 0, 0])
    p = _match(result, truth)[0]
    rows = [f - p.frames[0] for f in gone]
    assert p.interpolated[rows].all(axis=1).sum() >= 4
    assert np.all(np.isfinite(p.points[rows][:, PARTS.index("neck")]))
    assert np.nanmedian(np.linalg.norm(p.points - truth[0][p.frames], axis=2)) < 0.02


def test_views_that_never_see_the_same_person_are_a_clear_error(cameras) -> None:
    truth = three_people(40) + [walking(40, (-0.5, -0.9), (0.2, 0.6), phase=3.0)]
    views = project_views(cameras, truth, visible=lambda v, p: v == p)
    with pytest.raises(FusionError, match="never see the same person"):
        reconstruct(cameras, views, offsets=[0, 0, 0, 0])


def test_a_cancel_stops_the_fusion(cameras) -> None:
    views = project_views(cameras, three_people(20))
    with pytest.raises(FusionCancelled):
        reconstruct(cameras, views, offsets=[0, 0, 0, 0], should_cancel=lambda: True)
