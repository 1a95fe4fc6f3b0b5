"""OpenPose's Caffe models from the user's files: small prototxts of each output layout (COCO,
MPI, BODY_25) with generated random weights (tests/pose/caffe_files.py; CMU's weights cannot be
here). Loading, the kind read from the prototxt, the input convention, the network's output
against a NumPy reference, the decoding of each layout into people, and every bad file as one
clear line."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from caffe_files import LAYOUTS, STANDING, forward, person_maps, prototxt_text, write_model
from pose.assembly import NetworkOutputParser
from pose.caffe_format import CaffeFormatError, parse_prototxt, read_caffemodel
from pose.caffe_openpose import (KINDS, OPENCV_DEMO_INPUT, OPENPOSE_INPUT, CaffeOpenPoseBackend, find_caffe_files,
                                 load_caffe_estimator, recognise)
from pose.errors import ModelLoadError
from pose.models import load_estimator
from pose.skeleton import BODY_25, MPI_15, OPENPOSE_18

pytest.importorskip("openvino", reason="OpenPose's Caffe models run with OpenVINO, which is not installed")


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("caffe")
    return {kind: write_model(root / kind, kind)[0].parent for kind in LAYOUTS}


@pytest.mark.parametrize("kind, skeleton, channels", [("coco", OPENPOSE_18, 57), ("mpi", MPI_15, 44),
                                                      ("body25", BODY_25, 78)])
def test_the_kind_is_read_from_the_prototxt_and_runs_as_its_skeleton(models, kind, skeleton, channels) -> None:
    prototxt, caffemodel = find_caffe_files(models[kind])
    assert recognise(prototxt).name == kind and KINDS[kind].channels == channels
    estimator = load_estimator(f"openpose-caffe-{kind}", model_path=prototxt, net_height=64)
    assert estimator.skeleton is skeleton
    image = (np.random.default_rng(1).random((120, 160, 3)) * 255).astype(np.uint8)
    prepared = estimator.preprocess(image)
    raw = estimator.infer(prepared)
    _, height, width, _ = prepared.tensor.shape
    assert (height, width) == (64, 80)  # 64 high, the width by aspect (a multiple of 16)
    assert raw.shape == (8, 10, channels) and raw.dtype == np.float32
    people = estimator.postprocess(raw, prepared)
    assert all(p.keypoints.shape == (skeleton.num_parts, 3) for p in people)
    for person in people:  # in source pixels
        seen = person.keypoints[person.visible]
        assert (seen[:, 0] >= -8).all() and (seen[:, 0] <= 168).all() and (seen[:, 1] <= 128).all()


@pytest.mark.parametrize("kind", list(LAYOUTS))
def test_the_network_matches_a_numpy_reference_with_openposes_input_convention(models, kind) -> None:
    prototxt, caffemodel = find_caffe_files(models[kind])
    rng = np.random.default_rng(2)
    batch = (rng.random((2, 40, 56, 3)) * 255).astype(np.float32)  # NHWC BGR 0..255, two images
    for convention in (OPENPOSE_INPUT, OPENCV_DEMO_INPUT):
        backend = CaffeOpenPoseBackend(prototxt, caffemodel, input_convention=convention)
        got = backend.infer(batch)
        normalised = (batch.transpose(0, 3, 1, 2) - convention.mean) * convention.scale
        want = forward(kind, normalised).transpose(0, 2, 3, 1)
        assert got.shape == want.shape == (2, 5, 7, sum(LAYOUTS[kind]))
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    assert OPENPOSE_INPUT.scale == 1 / 256 and OPENPOSE_INPUT.mean == 128.0  # x/256 - 0.5
    assert OPENCV_DEMO_INPUT.scale == 1 / 255 and OPENCV_DEMO_INPUT.mean == 0.0


@pytest.mark.parametrize("kind", list(LAYOUTS))
def test_each_layout_decodes_into_one_person_with_every_part_in_place(kind) -> None:
    skeleton = KINDS[kind].skeleton
    names = skeleton.part_names
    # A standing person, 2-3 cells between parts (cells of 8 px), in the skeleton's own parts.
    place = STANDING
    points = {names.index(n): place[n] for n in names}
    people = NetworkOutputParser(upsample=1, layout=KINDS[kind].layout)(person_maps(KINDS[kind].layout, points, (26, 32)))
    assert len(people) == 1
    keypoints, _ = people[0]
    assert keypoints.shape == (skeleton.num_parts, 3) and (keypoints[:, 2] > 0.5).all()
    for part, (x, y) in points.items():  # network-input pixels: (cell + 0.5) * 8 - 0.5
        assert abs(keypoints[part, 0] - ((x + 0.5) * 8 - 0.5)) < 3 and abs(keypoints[part, 1] - ((y + 0.5) * 8 - 0.5)) < 3


def test_a_folder_a_prototxt_or_a_caffemodel_finds_the_pair(models, tmp_path) -> None:
    prototxt, caffemodel = find_caffe_files(models["mpi"])
    assert find_caffe_files(prototxt) == (prototxt, caffemodel) == find_caffe_files(caffemodel)
    two = tmp_path / "two"
    write_model(two, "mpi")
    (two / "pose_deploy_linevec_faster_4_stages.prototxt").write_text(prototxt_text("mpi"))
    assert find_caffe_files(two)[0].name == "pose_deploy.prototxt"  # OpenPose's own name is preferred
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="holds no .prototxt"):
        find_caffe_files(tmp_path / "empty")
    with pytest.raises(ModelLoadError, match="not found"):
        find_caffe_files(tmp_path / "nowhere")


def _one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text and "Traceback" not in text
    return text


def test_bad_files_are_one_clear_line_each(models, tmp_path) -> None:
    prototxt, caffemodel = find_caffe_files(models["coco"])
    # A prototxt that is not Caffe (a JSON file, an OpenPose graph, a text with no layers).
    for name, content in (("json.prototxt", '{"layers": [1, 2]}'), ("text.prototxt", "just some words\n"),
                          ("none.prototxt", 'name: "empty"\n')):
        bad = tmp_path / name
        bad.write_text(content)
        with pytest.raises(ModelLoadError) as exc:
            CaffeOpenPoseBackend(bad, caffemodel)
        assert "not a Caffe prototxt" in _one_line(exc), name
    # A Caffe network that is not an OpenPose pose model (its output has 10 channels).
    other = tmp_path / "other.prototxt"
    other.write_text(prototxt_text("coco").replace("num_output: 19", "num_output: 4").replace("num_output: 38",
                                                                                             "num_output: 6"))
    with pytest.raises(ModelLoadError) as exc:
        CaffeOpenPoseBackend(other, caffemodel)
    assert "10 output channels" in _one_line(exc) and "not an OpenPose pose model" in str(exc.value)
    # Weights of another layout beside a COCO prototxt.
    mixed = tmp_path / "mixed"
    write_model(mixed, "coco", weights_of="body25")
    with pytest.raises(ModelLoadError) as exc:
        load_caffe_estimator(mixed)
    line = _one_line(exc)
    assert "do not fit" in line and "Mconv7_stage1_L2" in line and "(26, 8, 1, 1)" in line
    # Files of one kind under another kind's name.
    with pytest.raises(ModelLoadError) as exc:
        load_estimator("openpose-caffe-body25", model_path=models["mpi"])
    assert "is an OpenPose mpi model" in _one_line(exc)
    # A truncated caffemodel, and a file that is not one at all.
    truncated = tmp_path / "truncated.caffemodel"
    truncated.write_bytes(caffemodel.read_bytes()[:-100])
    with pytest.raises(ModelLoadError) as exc:
        CaffeOpenPoseBackend(prototxt, truncated)
    assert "truncated" in _one_line(exc)
    garbage = tmp_path / "garbage.caffemodel"
    garbage.write_bytes(b"\xff" * 64)
    with pytest.raises(ModelLoadError) as exc:
        CaffeOpenPoseBackend(prototxt, garbage)
    assert "not a whole Caffe model" in _one_line(exc)


def test_the_text_format_reader_handles_caffes_spellings() -> None:
    tree = parse_prototxt('name: "n" # comment\nlayer { name: \'a\' type: "Pooling" pooling_param { pool: MAX '
                          "kernel_size: 2 } top: \"a\" }\nlayer { bottom: \"a\" relu_param: { negative_slope: 0.1 } }")
    assert tree["name"] == ["n"] and len(tree["layer"]) == 2
    assert tree["layer"][0]["pooling_param"][0] == {"pool": ["MAX"], "kernel_size": [2]}
    assert tree["layer"][1]["relu_param"][0]["negative_slope"] == [0.1]
    with pytest.raises(CaffeFormatError, match="never closed"):
        parse_prototxt("layer { name: 'a'")


def test_legacy_blob_dimensions_are_read(tmp_path) -> None:
    """Old caffemodels give num/channels/height/width (fields 1-4) instead of a shape."""
    from caffe_files import _field, _varint  # the test's own wire-format writer

    blob = b"".join(_varint(n << 3) + _varint(v) for n, v in ((1, 2), (2, 1), (3, 1), (4, 3)))
    blob += _field(5, np.arange(6, dtype="<f4").tobytes())
    layer = _field(1, b"conv") + _field(7, blob)
    path = tmp_path / "legacy.caffemodel"
    path.write_bytes(_field(100, layer))
    (weights,) = read_caffemodel(path)["conv"]
    assert weights.shape == (2, 1, 1, 3) and weights.ravel().tolist() == [0, 1, 2, 3, 4, 5]
