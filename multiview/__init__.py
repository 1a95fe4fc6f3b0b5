"""People in 3D from several calibrated, synchronised views: a pure library (numpy, scipy,
OpenCV; no Flask, no Celery, no job store, no environment).

- :mod:`multiview.camera`, :mod:`multiview.calibration`, :mod:`multiview.check`: the cameras,
  Pose2Sim's Calib.toml and Qualisys .qca.txt, and whether they fit the videos;
- :mod:`multiview.views`: one view's 2D people, from the 2D pipeline's keypoints.csv;
- :mod:`multiview.sync`: the views' time offsets, given or estimated;
- :mod:`multiview.association`, :mod:`multiview.swaps`, :mod:`multiview.triangulation`,
  :mod:`multiview.fusion`: people matched across views and triangulated, frame by frame;
- :mod:`multiview.tracks3d`: one ID per person over the recording, gaps filled, smoothed;
- :mod:`multiview.angles3d`, :mod:`multiview.exports`: 3D angles and the files.
"""
from multiview.camera import Camera
from multiview.errors import CalibrationError, FusionError, MultiviewError, SyncError

__all__ = ["Camera", "CalibrationError", "FusionError", "MultiviewError", "SyncError"]
