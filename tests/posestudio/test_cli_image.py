"""``posestudio image`` and ``posestudio images`` end to end with the real model: good inputs
produce their outputs, each bad input costs exactly one stderr line naming it."""
from __future__ import annotations

import contextlib
import io
import json
import shutil
import stat
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools.coco import COCO

from posestudio.cli import main

SKIER = "000000000785.jpg"


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def inputs(shared_data: Path, tmp_path_factory) -> dict[str, Path]:
    """A good photo, its grayscale / RGBA / 16-bit / 8000x6000 versions, and the bad files."""
    folder = tmp_path_factory.mktemp("cli-inputs")
    data = (shared_data / "coco" / "images" / SKIER).read_bytes()
    photo = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    files = {"good": folder / SKIER, "not_image": folder / "notes.jpg", "empty": folder / "empty.png",
             "truncated": folder / "truncated.jpg", "tiny": folder / "tiny.png", "gray": folder / "gray.png",
             "rgba": folder / "rgba.png", "deep": folder / "deep.png", "huge": folder / "huge.jpg"}
    files["good"].write_bytes(data)
    files["not_image"].write_text("just some text\n")
    files["empty"].write_bytes(b"")
    files["truncated"].write_bytes(data[: len(data) // 2])
    cv2.imwrite(str(files["tiny"]), np.zeros((5, 5, 3), np.uint8))
    cv2.imwrite(str(files["gray"]), cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY))
    cv2.imwrite(str(files["rgba"]), cv2.cvtColor(photo, cv2.COLOR_BGR2BGRA))
    cv2.imwrite(str(files["deep"]), photo.astype(np.uint16) * 257)
    cv2.imwrite(str(files["huge"]), cv2.resize(photo, (8000, 6000)), [cv2.IMWRITE_JPEG_QUALITY, 70])
    return files


def test_image_command_processes_good_files_and_names_each_bad_one(inputs, tmp_path, capsys, model_path) -> None:
    out = tmp_path / "out"
    order = ["good", "not_image", "gray", "empty", "rgba", "truncated", "deep", "tiny", "huge"]
    code, stdout, stderr = _run(["image", *(str(inputs[k]) for k in order), "--out", str(out),
                                 "--model", str(model_path)], capsys)
    assert code == 1
    lines = stderr.strip().splitlines()
    expected = {"not_image": "not an image", "empty": "empty file", "truncated": "truncated JPEG",
                "tiny": "at least 8"}
    assert len(lines) == len(expected), stderr
    for key, reason in expected.items():
        assert any(str(inputs[key]) in line and reason in line for line in lines), (key, stderr)
    assert "5 of 9 images processed" in stdout
    for key in ("good", "gray", "rgba", "deep", "huge"):
        record = json.loads((out / f"{inputs[key].stem}.json").read_text())
        assert record["people"], key
        annotated = cv2.imread(str(out / f"{inputs[key].stem}.jpg"))
        assert annotated.shape[:2] == (record["height"], record["width"])
    good = json.loads((out / "000000000785.json").read_text())
    assert (good["width"], good["height"]) == (640, 425)
    assert good["engine"] == {"backend": "openvino", "precision": "f32", "device": "cpu", "network_input": [560, 368], "upsample": 2,
                              "quality": "balanced"}
    person = good["people"][0]
    assert len(person["keypoints"]) == 18 and person["keypoints"]["neck"] is not None
    assert len(person["coco_keypoints"]) == 51 and len(person["box"]) == 4 and person["score"] > 0
    huge = json.loads((out / "huge.json").read_text())["people"][0]
    assert huge["keypoints"]["neck"][0] == pytest.approx(person["keypoints"]["neck"][0] * 12.5, abs=40)


def test_images_command_writes_coco_results_and_carries_on_past_bad_files(shared_data, tmp_path, capsys,
                                                                           model_path) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    names = ["000000000785.jpg", "000000000790.jpg", "000000030752.jpg"]
    for name in names:
        shutil.copy(shared_data / "coco" / "images" / name, folder / name)
    (folder / "000000000001.jpg").write_text("not an image")
    shutil.copy(shared_data / "coco" / "images" / names[0], folder / "skier.jpg")  # no number in the name
    results = tmp_path / "results.json"
    code, stdout, stderr = _run(["images", str(folder), "--coco-results", str(results),
                                 "--model", str(model_path), "--net-size", "432x368"], capsys)
    assert code == 1
    lines = stderr.strip().splitlines()
    assert len(lines) == 2 and "000000000001.jpg: not an image" in stderr and "skier.jpg: no number" in stderr
    detections = json.loads(results.read_text())
    assert {d["image_id"] for d in detections} == {785, 790, 30752}
    assert all(d["category_id"] == 1 and len(d["keypoints"]) == 51 and d["score"] > 0 for d in detections)
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(shared_data / "coco" / "person_keypoints_dev.json"))
        assert len(gt.loadRes(str(results)).getAnnIds()) == len(detections)
    assert f"3 of 5 images processed; {len(detections)} people" in stdout
    assert stat.S_IMODE(results.stat().st_mode) == 0o644  # an ordinary file, not mkstemp's private one


def test_an_unwritable_json_is_one_line_and_written_ones_are_ordinary_files(inputs, tmp_path, capsys,
                                                                          model_path) -> None:
    out = tmp_path / "out"
    (out / "gray.json").mkdir(parents=True)  # the JSON cannot be renamed onto a directory
    code, stdout, stderr = _run(["image", str(inputs["good"]), str(inputs["gray"]), "--out", str(out),
                                 "--model", str(model_path)], capsys)
    assert code == 1 and stderr.count("\n") == 1 and "Traceback" not in stderr
    assert f"{inputs['gray']}: could not write {out / 'gray.json'} (Is a directory)" in stderr
    assert "1 of 2 images processed" in stdout
    assert stat.S_IMODE((out / "000000000785.json").stat().st_mode) == 0o644
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no temp file left behind


def test_outputs_never_overwrite_an_input_when_out_is_the_inputs_folder(inputs, tmp_path, capsys,
                                                                       model_path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    photo, other = folder / SKIER, folder / "000000000785-2.jpg"
    photo.write_bytes(inputs["good"].read_bytes())
    other.write_bytes(inputs["good"].read_bytes())
    original = photo.read_bytes()
    code, stdout, stderr = _run(["image", str(photo), str(other), "--out", str(folder),
                                 "--model", str(model_path)], capsys)
    assert code == 0, stderr
    assert photo.read_bytes() == original and other.read_bytes() == original
    # 000000000785 -> -2 is the second input's file, so -3; that input itself -> 000000000785-2-2
    assert json.loads((folder / "000000000785-3.json").read_text())["image"] == str(photo)
    assert json.loads((folder / "000000000785-2-2.json").read_text())["image"] == str(other)
    assert cv2.imread(str(folder / "000000000785-3.jpg")).shape == (425, 640, 3)


def test_images_in_a_folder_without_images_is_one_clear_error(tmp_path, capsys) -> None:
    (tmp_path / "readme.txt").write_text("no pictures here")
    code, _, stderr = _run(["images", str(tmp_path), "--coco-results", str(tmp_path / "r.json")], capsys)
    assert code == 1 and stderr.count("\n") == 1
    assert f"{tmp_path}: no image files" in stderr and not (tmp_path / "r.json").exists()


def test_missing_model_and_bad_flags(tmp_path, inputs, capsys) -> None:
    code, _, stderr = _run(["image", str(inputs["good"]), "--out", str(tmp_path),
                            "--model", str(tmp_path / "nope.pb")], capsys)
    assert code == 1 and stderr.count("\n") == 1 and "nope.pb not found" in stderr
    for flags in (["--net-size", "432"], ["--net-height", "300"], ["--upsample", "0"], ["--backend", "tf"]):
        with pytest.raises(SystemExit) as exit_info:
            main(["image", str(inputs["good"]), "--out", str(tmp_path), *flags])
        assert exit_info.value.code == 2
    capsys.readouterr()
    code, _, stderr = _run(["image", str(inputs["good"]), "--out", str(tmp_path), "--paf-min-fraction", "2"], capsys)
    assert code == 1 and "paf_min_fraction must be in [0, 1]" in stderr


def test_help_lists_the_engine_options(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["images", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--coco-results", "--backend", "--precision", "--net-height", "--net-size", "--upsample",
                   "--peak-threshold", "--min-parts", "--model"):
        assert option in text


def test_image_quality_accurate_records_every_pass_and_finds_the_skier(inputs, tmp_path, capsys, model_path) -> None:
    out = tmp_path / "out"
    code, stdout, stderr = _run(["image", str(inputs["good"]), "--out", str(out), "--quality", "accurate",
                                 "--net-height", "256", "--model", str(model_path)], capsys)
    assert code == 0, stderr
    record = json.loads((out / "000000000785.json").read_text())
    assert record["engine"]["quality"] == "accurate" and record["engine"]["flip"] is True
    assert [h for _, h in record["engine"]["network_inputs"]] == [192, 256, 320, 384]
    assert record["people"] and record["people"][0]["num_parts"] >= 12


def test_image_quality_must_be_one_of_the_presets(inputs, tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["image", str(inputs["good"]), "--out", str(tmp_path), "--quality", "best"])
    assert exited.value.code == 2
    assert "invalid choice: 'best'" in capsys.readouterr().err
