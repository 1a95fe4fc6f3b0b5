"""A worker whose GPU fails mid-job (a CUDA error) hands the job back to the queue, as for a
worker that dies, and runs no more jobs; a GPU that runs out of memory for a batch only makes
the batches smaller, and the job says so.

There is no GPU here, so a real CUDA fault cannot happen: the torch backend (CPU build) is loaded
for real and its network raises torch's own CUDA errors at the backend's boundary instead."""
from __future__ import annotations

import shutil

import pytest

torch = pytest.importorskip("torch", reason="torch is not installed (make test-setup installs the CPU build where "
                                            "its wheel is on disk; make setup-torch elsewhere)")

from config import Settings  # noqa: E402
from jobs import JobState, JobStore, upload_path  # noqa: E402
from pose import load_backend  # noqa: E402
from pose.backends import CPU  # noqa: E402
from workers import tasks  # noqa: E402
from workers.celery_app import create_celery, filesystem_broker_folders  # noqa: E402
from workers.recovery import MAX_ATTEMPTS  # noqa: E402

pytestmark = pytest.mark.model
CLIP = "mmaction2_test_video_structuralize.mp4"
OPTIONS = {"backend": "torch", "net_height": 184, "end_s": 0.4, "keypoints_only": True}


class _FailingNetwork(torch.nn.Module):
    def __init__(self, network, error: Exception, fits: int) -> None:
        super().__init__()
        self.network, self.error, self.fits = network, error, fits

    def forward(self, x):
        if x.shape[0] > self.fits:
            raise self.error
        return self.network(x)


@pytest.fixture
def env(tmp_path, model_path, monkeypatch):
    if not model_path.with_suffix(".onnx").is_file():
        pytest.skip("graph_opt.onnx not found: run `make onnx` (make test-setup does)")
    settings = Settings(instance_dir=tmp_path / "instance", uploads_dir=tmp_path / "uploads",
                        outputs_dir=tmp_path / "outputs", model_path=model_path, secret_key="t",
                        job_hard_time_limit_s=600, inference_batch=4, postprocess_workers="0")
    app = create_celery(settings)
    store = JobStore(settings.effective_database_url)
    monkeypatch.setattr(tasks, "_device_failed", {})  # this test process's GPU has not failed before
    monkeypatch.setattr(tasks, "HAND_BACK_DELAY_S", 0.0)
    yield settings, app.tasks[tasks.TASK_NAME], store
    store.close()


def _submit(settings, store, videos_dir):
    job = store.create_job(source_name=CLIP, options=OPTIONS, owner=None, source_meta={})
    upload_path(settings, job.id).parent.mkdir(parents=True)
    shutil.copyfile(videos_dir / CLIP, upload_path(settings, job.id))
    return job


def _backend_raising(monkeypatch, model_path, error, fits):
    backend = load_backend("torch", model_path, device=CPU, parallel_requests=2)
    backend.network = _FailingNetwork(backend.network, error, fits)
    monkeypatch.setattr(tasks, "backend_for", lambda settings, options: backend)
    return backend


def _messages(settings) -> int:
    return len(list(filesystem_broker_folders(settings)["queue"].glob("*")))


def test_a_cuda_error_requeues_the_job_and_the_process_takes_no_more(env, model_path, videos_dir, monkeypatch):
    settings, task, store = env
    _backend_raising(monkeypatch, model_path, RuntimeError("CUDA error: an illegal memory access was encountered"), 0)
    job = _submit(settings, store, videos_dir)
    before = _messages(settings)
    assert task(job.id) == "requeued"
    back = store.get(job.id)
    assert back.state is JobState.QUEUED and back.attempts == job.attempts + 1 and back.error is None
    assert back.worker is None and back.claim is None
    assert _messages(settings) == before + 1  # sent again, for another worker
    other = _submit(settings, store, videos_dir)
    assert task(other.id) == "handed back"  # this process runs nothing more on that GPU
    assert store.get(other.id).state is JobState.QUEUED and store.get(other.id).started_at is None
    assert _messages(settings) == before + 2


def test_after_the_last_attempt_the_job_fails_saying_why(env, model_path, videos_dir, monkeypatch):
    settings, task, store = env
    _backend_raising(monkeypatch, model_path, RuntimeError("CUDA error: unspecified launch failure"), 0)
    job = _submit(settings, store, videos_dir)
    for _ in range(MAX_ATTEMPTS - 1):  # as if two workers' GPUs had failed on it before
        store.mark_running(job.id, worker="w")
        store.requeue_running(job.id, claim=store.get(job.id).claim, max_attempts=MAX_ATTEMPTS, reason="-")
    assert store.get(job.id).attempts == MAX_ATTEMPTS
    assert task(job.id) == "failed"
    failed = store.get(job.id)
    assert failed.state is JobState.FAILED
    assert failed.error.startswith(f"the worker's GPU failed on attempt {MAX_ATTEMPTS} of {MAX_ATTEMPTS} "
                                   "(the device cpu failed: CUDA error: unspecified launch failure)")


def test_running_out_of_gpu_memory_halves_the_batch_and_the_job_says_so(env, model_path, videos_dir, monkeypatch):
    settings, task, store = env
    backend = _backend_raising(monkeypatch, model_path, torch.OutOfMemoryError("CUDA out of memory."), 2)
    job = _submit(settings, store, videos_dir)
    assert task(job.id) == "succeeded"
    done = store.get(job.id)
    assert backend.max_batch == 2
    assert any("the GPU ran out of memory for a batch of 4 frames" in w and "batches of at most 2" in w
               for w in done.timings["warnings"]), done.timings
