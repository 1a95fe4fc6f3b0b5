"""A whole job for each OpenPose Caffe layout (COCO, MPI, BODY_25), through the worker's task body
and the job page, with generated models installed where ``posestudio models`` says.

CMU's weights cannot be here; each model is generated (tests/caffe_files.py) so that its output
is always one standing person with every part of its skeleton: the job must find that person in
every frame, keep one track, export the model's skeleton, show it on the job page and compute
every angle that skeleton allows (BODY_25's feet give the ankle and foot angles, MPI's missing
face none of the head's)."""
from __future__ import annotations

import json
import shutil

import pytest

from caffe_files import write_painted_model
from config import Settings
from jobs import JobState, JobStore, output_dir, upload_path
from workers.celery_app import create_celery
from workers.tasks import TASK_NAME

pytest.importorskip("openvino", reason="OpenPose's Caffe models run with OpenVINO, which is not installed")
CLIP = "vtest.avi"  # 768x576, 10 fps
GRID = (26, 32)  # output cells; the network input is 208x256


@pytest.fixture(scope="module")
def env(tmp_path_factory, model_path):
    from pose.caffe_openpose import KINDS

    root = tmp_path_factory.mktemp("caffe-jobs")
    models = root / "models"
    models.mkdir()
    (models / "graph_opt.pb").symlink_to(model_path)
    for kind, folder in (("coco", "coco"), ("mpi", "mpi"), ("body25", "body_25")):
        write_painted_model(models / "openpose" / "pose" / folder, kind, KINDS[kind].layout, KINDS[kind].skeleton,
                            size=GRID)
    settings = Settings(instance_dir=root / "instance", uploads_dir=root / "uploads", outputs_dir=root / "outputs",
                        model_path=models / "graph_opt.pb", secret_key="t", job_hard_time_limit_s=600)
    store = JobStore(settings.effective_database_url)
    yield settings, create_celery(settings).tasks[TASK_NAME], store
    store.close()


@pytest.mark.parametrize("kind, skeleton, parts, has, lacks", [
    ("coco", "openpose18", 18, {"right_knee", "head", "trunk"}, {"right_ankle"}),
    ("mpi", "mpi15", 15, {"right_knee", "trunk", "left_elbow"}, {"head", "right_ankle"}),
    ("body25", "body25", 25, {"right_ankle", "left_foot", "head", "right_knee"}, set()),
])
def test_a_job_with_each_caffe_layout(env, videos_dir, kind, skeleton, parts, has, lacks) -> None:
    settings, task, store = env
    options = {"model": f"openpose-caffe-{kind}", "end_s": 1.0, "net_height": 8 * GRID[0], "net_width": 8 * GRID[1]}
    job = store.create_job(source_name=CLIP, options=options, owner=None, source_meta={})
    upload_path(settings, job.id).parent.mkdir(parents=True)
    shutil.copyfile(videos_dir / CLIP, upload_path(settings, job.id))
    assert task(job.id) == "succeeded", store.get(job.id).error
    done = store.get(job.id)
    out = output_dir(settings, job.id)
    assert done.state is JobState.SUCCEEDED and done.frames_done == 10
    doc = json.loads((out / "keypoints.json").read_text())
    assert doc["model"]["id"] == f"openpose-caffe-{kind}" and doc["skeleton"]["name"] == skeleton
    assert len(doc["skeleton"]["parts"]) == parts
    assert {a["track_id"] for a in doc["annotations"]} == {1} and len(doc["annotations"]) == 10
    assert all(len(a["parts"]) == 3 * parts for a in doc["annotations"])
    assert ("openpose_zip" in done.outputs) == (kind == "coco")  # OpenPose's JSON is its 18 parts only
    people = json.loads((out / "people.json").read_text())
    names = {a["name"] for a in people["angles"]}
    assert has <= names and not lacks & names
    series = json.loads((out / "people" / "person_1.json").read_text())
    for name in has:
        values = [v for v in series["angles"][name]["smoothed"] if v is not None]
        assert len(values) == 10, name
    knee = series["angles"]["right_knee"]["smoothed"]
    assert all(abs(v) < 1.0 for v in knee)  # the painted person stands with straight legs
    # The job page shows the model and its skeleton.
    from app import create_app

    page = create_app({"SETTINGS": settings, "TESTING": True}).test_client().get(f"/jobs/{job.id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and f'id="job-skeleton">{skeleton}<' in text
    assert f"openpose-caffe-{kind}" in text
