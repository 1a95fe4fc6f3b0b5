"""The broker goes away, on Redis and on RabbitMQ (each behind a TCP proxy that the test stops and
starts: the shared servers stay up for everyone else): at start, then in the middle of a job.
The web app (in this process) and a real Celery worker with the real model.

What must hold: an upload while the queue is away is refused with a 503 that says so, and the
job it made says the same on its page and in the API (an admin can retry it; the upload is
kept for that); a worker started meanwhile waits for the broker and then works, with no restart
by hand; a job running when the broker goes away finishes in its first attempt, leaving no
partial output folder; and uploads work again once the broker is back.
Redis: database 13 of 127.0.0.1:6379. RabbitMQ: a virtual host of this test's own (made with
``rabbitmqctl``), so no other test's worker can take these jobs, nor this worker theirs."""
from __future__ import annotations

import socket
import threading

import pytest

from app import create_app
from config import Settings
from jobs import JobState, output_dir, upload_path
from web.state import QUEUE_UNREACHABLE

from celery_worker_process import Queue, WorkerProcess, queue_env
from rabbitmq_vhosts import own_vhost
from tcp_proxy import TcpProxy

pytestmark = pytest.mark.model

REDIS_DB = 13


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return True
    except OSError:
        return False


@pytest.fixture(params=[pytest.param("redis", marks=pytest.mark.redis), "rabbitmq"])
def broker(request):
    """(proxy, broker URL through it)."""
    if request.param == "redis":
        if not _listening(6379):
            pytest.skip("Redis not reachable at 127.0.0.1:6379")
        proxy = TcpProxy(6379)
        yield proxy, f"redis://127.0.0.1:{proxy.port}/{REDIS_DB}"
        proxy.stop()
        return
    if not _listening(5672):
        pytest.skip("RabbitMQ not reachable at 127.0.0.1:5672")
    with own_vhost("posestudio_faults_") as vhost:
        proxy = TcpProxy(5672)
        yield proxy, f"amqp://guest:guest@127.0.0.1:{proxy.port}/{vhost}"
        proxy.stop()


def test_the_broker_away_at_start_and_in_the_middle_of_a_job(broker, tmp_path, videos_dir, model_path):
    proxy, url = broker
    proxy.stop()  # away from the start
    env = queue_env(tmp_path, model_path, JOB_STALE_AFTER_S="5", CELERY_BROKER_URL=url)
    settings = Settings.from_env(env)
    app = create_app({"SETTINGS": settings, "TESTING": True})
    client = app.test_client()  # a browser (pages give it a cookie)
    worker = WorkerProcess(env, name="h18b-faults-broker", concurrency=1, log_path=tmp_path / "worker.log")
    clip = videos_dir / "mmaction2_test_video_structuralize.mp4"  # 426x240, 29.97 fps, 300 frames

    def upload(**fields: str):  # as a script does: no cookie, so no CSRF token
        with open(clip, "rb") as video:
            return app.test_client().post("/api/jobs", data={"video": (video, clip.name), **fields})

    refused = upload(net_height="128", end_s="1")
    assert refused.status_code == 503 and QUEUE_UNREACHABLE in refused.get_json()["error"]
    queue = Queue(settings, env, worker, videos_dir)
    try:
        (failed,) = queue.store.list_jobs()
        assert failed.state is JobState.FAILED and failed.error == QUEUE_UNREACHABLE
        assert client.get(f"/api/jobs/{failed.id}").get_json()["error"] == QUEUE_UNREACHABLE
        assert QUEUE_UNREACHABLE in client.get(f"/jobs/{failed.id}").get_data(as_text=True)
        assert upload_path(settings, failed.id).is_file()  # kept: an admin can retry it

        threading.Timer(3.0, proxy.start).start()  # back while the worker waits for it
        worker.start(timeout_s=120)
        accepted = upload(net_height="128", end_s="5")
        assert accepted.status_code == 202, accepted.get_json()
        job_id = accepted.get_json()["id"]  # 150 frames
        queue.wait(job_id, lambda j: j.state is JobState.RUNNING and j.frames_done > 0, timeout_s=120)
        with proxy.down(3.0):
            pass
        done = queue.wait_finished(job_id)
        assert done.state is JobState.SUCCEEDED and done.attempts == 1, (done, worker.log()[-3000:])
        assert done.frames_done == 150 and (output_dir(settings, job_id) / "annotated.mp4").is_file()
        assert queue.leftovers(job_id) == []
        assert client.get(f"/api/jobs/{job_id}").get_json()["state"] == "succeeded"

        again = upload(net_height="128", end_s="0.5")  # the site works again, no restart by hand
        assert again.status_code == 202
        assert queue.wait_finished(again.get_json()["id"], timeout_s=120).state is JobState.SUCCEEDED
    finally:
        proxy.start()
        worker.stop()
        queue.store.close()
