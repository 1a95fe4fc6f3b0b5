"""PipelineOptions: values from a web form or the CLI are parsed and checked with clear errors."""
from __future__ import annotations

import pytest

from pipeline.video import PipelineOptions


def test_form_strings_are_parsed_and_blank_means_default() -> None:
    opts = PipelineOptions.from_mapping({
        "net_height": "256", "net_width": "", "skeleton_only": "on", "max_people": "3",
        "keypoint_threshold": "0.2", "start_s": "1.5", "end_s": "4", "frame_stride": "2",
        "backend": " OpenVINO ", "screenshot_interval_s": "0",
    })
    assert (opts.net_height, opts.net_width, opts.skeleton_only, opts.max_people) == (256, None, True, 3)
    assert (opts.start_s, opts.end_s, opts.frame_stride, opts.backend) == (1.5, 4.0, 2, "openvino")
    assert opts.screenshot_interval_s == 0.0 and opts.upsample == 2


def test_net_height_defaults_to_auto_and_takes_auto_in_any_case() -> None:
    assert PipelineOptions().net_height == "auto"
    assert PipelineOptions.from_mapping({"net_height": " AUTO "}).net_height == "auto"
    assert PipelineOptions.from_mapping({"net_height": ""}).net_height == "auto"
    assert PipelineOptions.from_mapping(PipelineOptions().to_dict()) == PipelineOptions()
    with pytest.raises(ValueError, match="net_height must be a multiple of 8"):
        PipelineOptions(net_height="large")


def test_to_dict_round_trips() -> None:
    opts = PipelineOptions(net_width=432, max_people=2, end_s=10.0, skeleton_only=True, max_age=5)
    assert PipelineOptions.from_mapping(opts.to_dict()) == opts


@pytest.mark.parametrize(("values", "message"), [
    ({"net_height": "300"}, "net_height must be a multiple of 8"),
    ({"net_height": "abc"}, 'net_height must be "auto" or a whole number'),
    ({"net_width": "auto"}, "net_width must be a whole number"),
    ({"upsample": "2.5"}, "upsample must be a whole number"),
    ({"keypoint_threshold": "1.5"}, "keypoint_threshold must be between 0.0 and 1.0"),
    ({"start_s": "5", "end_s": "2"}, r"end_s \(2.0\) must be after start_s \(5.0\)"),
    ({"frame_stride": "0"}, "frame_stride must be between 1"),
    ({"max_people": "0"}, "max_people must be between 1"),
    ({"backend": "tensorflow"}, "backend must be one of openvino, onnxruntime, opencv"),
    ({"backend": "opencv", "precision": "bf16"}, "needs the openvino or torch backend"),
    ({"backend": "openvino", "precision": "fp16"}, "needs the onnxruntime or torch backend"),
    ({"skeleton_only": "maybe"}, "skeleton_only must be true or false"),
    ({"screenshot_interval_s": "nan"}, "must be a finite number"),
    ({"colour": "red"}, "unknown option"),
    ({"model": "alphapose"}, "model must be one of openpose, blazepose"),
    ({"model": "openpose", "angles": "right_ankle"}, "right_ankle' is not available: it needs right_big_toe, "
                                                     "right_heel"),
])
def test_bad_values_raise_value_error_naming_the_field(values: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PipelineOptions.from_mapping(values)


def test_the_model_chooses_the_skeleton_the_angles_are_checked_against() -> None:
    """BlazePose's 33 parts give the ankle, foot, wrist and hand angles OpenPose-18 cannot."""
    blaze = PipelineOptions.from_mapping({"model": "BlazePose", "angles": "right_ankle, left_foot, right_wrist"})
    assert blaze.model == "blazepose" and blaze.skeleton.name == "blazepose33"
    assert PipelineOptions().model == "openpose" and PipelineOptions().skeleton.num_parts == 18
    assert PipelineOptions.from_mapping(blaze.to_dict()) == blaze


@pytest.mark.parametrize("values, name", [
    ({"start_s": "1" * 900_000}, "start_s"), ({"smoothing": "x" * 900_000}, "smoothing"),
    ({"stitch": "y" * 900_000}, "stitch"), ({"net_height": "z" * 900_000}, "net_height"),
    ({"max_people": "9" * 900_000}, "max_people"), ({"angles": "knee" * 200_000}, "angle"),
    ({"x" * 900_000: "1"}, "unknown option"), ({f"extra{i}": "1" for i in range(500)}, "and 495 more"),
])
def test_a_huge_bad_value_is_not_echoed_whole(values: dict, name: str) -> None:
    """A 900,000-character start_s came back whole in its error (a 900 kB 400)."""
    with pytest.raises(ValueError) as caught:
        PipelineOptions.from_mapping(values)
    message = str(caught.value)
    assert name in message and len(message) < 1000, message[:200]
    assert "characters)" in message or "more" in message
