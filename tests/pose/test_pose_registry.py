"""The model registry: every model as data, and whether its files are in the folders given."""
from __future__ import annotations

from pathlib import Path

import pytest

from pose.models import MODEL_NAMES, MODEL_SKELETONS
from pose.registry import BY_NAME, MODELS, find_model
from pose.skeleton import BLAZEPOSE_33, BODY_25, COCO_17, MPI_15, OPENPOSE_18


def test_every_model_has_a_skeleton_files_an_install_hint_and_a_licence() -> None:
    assert [e.name for e in MODELS] == list(MODEL_NAMES)
    assert set(MODEL_NAMES) == {"openpose", "blazepose-lite", "blazepose", "blazepose-heavy", "openpose-caffe-coco",
                                "openpose-caffe-mpi", "openpose-caffe-body25", "keypointrcnn"}
    expected = {"openpose": OPENPOSE_18, "blazepose-heavy": BLAZEPOSE_33, "openpose-caffe-coco": OPENPOSE_18,
                "openpose-caffe-mpi": MPI_15, "openpose-caffe-body25": BODY_25, "keypointrcnn": COCO_17}
    for name, skeleton in expected.items():
        assert MODEL_SKELETONS[name] is skeleton
    for entry in MODELS:
        assert entry.files and entry.install and entry.licence and entry.label, entry.name
    assert "non-commercial" in BY_NAME["openpose-caffe-body25"].licence


def test_missing_files_are_one_line_saying_where_they_go(tmp_path: Path) -> None:
    files = find_model("openpose-caffe-body25", models_dir=tmp_path)
    assert not files.installed and files.found == ()
    line = files.missing_line()
    assert "\n" not in line and str(tmp_path) in line and "openpose/pose/body_25/*.caffemodel" in line
    assert "pose_iter_584000.caffemodel" in line
    heavy = find_model("blazepose-heavy", models_dir=tmp_path, mediapipe_dir=tmp_path / "mp")
    assert not heavy.installed and "make blazepose-models" in heavy.missing_line()
    assert "mp" in heavy.missing_line()
    no_mediapipe = find_model("blazepose", models_dir=tmp_path, mediapipe_dir=None)
    assert not no_mediapipe.installed and "not installed" in no_mediapipe.missing_line()
    with pytest.raises(KeyError):
        find_model("alphapose", models_dir=tmp_path)


def test_files_in_place_are_found_in_each_kind_of_folder(tmp_path: Path) -> None:
    models, hub = tmp_path / "models", tmp_path / "hub"
    caffe = models / "openpose" / "pose" / "mpi"
    caffe.mkdir(parents=True)
    (caffe / "pose_deploy_linevec.prototxt").write_text("name: 'x'\n")
    assert not find_model("openpose-caffe-mpi", models_dir=models).installed  # weights still missing
    (caffe / "pose_iter_160000.caffemodel").write_bytes(b"\0")
    found = find_model("openpose-caffe-mpi", models_dir=models)
    assert found.installed and [p.name for p in found.found] == ["pose_deploy_linevec.prototxt",
                                                                "pose_iter_160000.caffemodel"]
    (hub / "checkpoints").mkdir(parents=True)
    assert not find_model("keypointrcnn", models_dir=models, torch_hub_dir=hub).installed
    (hub / "checkpoints" / "keypointrcnn_resnet50_fpn_coco-fc266e95.pth").write_bytes(b"\0")
    rcnn = find_model("keypointrcnn", models_dir=models, torch_hub_dir=hub)
    assert rcnn.installed and rcnn.folder == hub / "checkpoints"
    data = rcnn.to_dict()
    assert data["installed"] is True and data["skeleton"] == "coco17" and data["parts"] == 17
    assert data["files"] == [str(hub / "checkpoints" / "keypointrcnn_resnet50_fpn_coco-fc266e95.pth")]
