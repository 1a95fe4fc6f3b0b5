"""Offsets estimated from the people's motion through the calibration (multiview.sync), on the
synthetic scene where the truth is exact."""
from __future__ import annotations

import numpy as np
import pytest

from multiview.errors import SyncError
from multiview.sync import estimate_offsets, given_offsets
from multiview.views import ViewKeypoints
from synthetic_scene import demo_cameras, project_views, three_people


@pytest.fixture(scope="module")
def cameras(shared_data):
    return demo_cameras(shared_data)


def _late(view: ViewKeypoints, frames: int) -> ViewKeypoints:
    return view.shifted(frames)


@pytest.mark.parametrize("late", [(3, 12), (1, 7), (2, 0)])
def test_a_late_camera_is_found_late_by_that_many_frames(cameras, late) -> None:
    view, frames = late
    views = project_views(cameras, three_people(100), noise_px=1.5, seed=3)
    views[view] = _late(views[view], frames)
    offsets = estimate_offsets(cameras, views)
    assert [o.offset for o in offsets] == [frames if v == view else 0 for v in range(4)]
    assert all(0 < o.confidence <= 1 for o in offsets)
    assert all(np.isnan(o.epipolar_px) or o.epipolar_px < 5 for o in offsets)


def test_given_offsets_are_made_relative_to_the_first_and_counted(cameras) -> None:
    assert [o.offset for o in given_offsets([5, 5, 17, 3], 4)] == [0, 0, 12, -2]
    with pytest.raises(SyncError, match="3 offsets for 4 videos"):
        given_offsets([0, 1, 2], 4)


def test_a_view_without_a_tracked_person_cannot_be_synchronised(cameras) -> None:
    views = project_views(cameras, three_people(60))
    still = ViewKeypoints(views[2].name, views[2].fps, views[2].size, views[2].part_names, views[2].people,
                          tuple(np.full(len(ids), -1) for ids in views[2].track_ids))  # no tracked person
    views[2] = still
    with pytest.raises(SyncError, match="cam03.mp4: nobody is tracked in it"):
        estimate_offsets(cameras, views)
