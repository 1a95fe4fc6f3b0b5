"""Every web process's /metrics has every series from its first scrape (issue 18): a gunicorn
process that had not yet asked the broker used to answer without posestudio_queue_length and
posestudio_workers_online, so two processes answered scrapes differently. Two app instances
(each one web process's state), the real embedded queue, and a broker that is down."""
from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from web_helpers import make_settings

SERIES = ("posestudio_broker_up", "posestudio_queue_length", "posestudio_workers_online")


def _first_scrape(app) -> dict[str, float]:
    text = app.test_client().get("/metrics").get_data(as_text=True)
    return {s.name: s.value for family in text_string_to_metric_families(text) for s in family.samples
            if s.name in SERIES}


def test_two_processes_first_scrapes_have_every_series_and_agree(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    first, second = (create_app({"SETTINGS": settings, "TESTING": True}) for _ in range(2))
    for n in range(2):
        job = first.extensions["posestudio"].store.create_job(source_name=f"{n}.mp4", options={}, owner=None,
                                                              source_meta={})
        first.extensions["posestudio"].enqueue(job.id)
    scrapes = [_first_scrape(first), _first_scrape(second)]
    assert scrapes[0] == scrapes[1] == {"posestudio_broker_up": 1.0, "posestudio_queue_length": 2.0,
                                        "posestudio_workers_online": 0.0}


def test_with_the_broker_down_every_series_is_there_from_the_database(tmp_path: Path) -> None:
    app = create_app({"SETTINGS": make_settings(tmp_path, broker_url="redis://127.0.0.1:1/0"), "TESTING": True})
    app.extensions["posestudio"].store.create_job(source_name="a.mp4", options={}, owner=None, source_meta={})
    assert _first_scrape(app) == {"posestudio_broker_up": 0.0, "posestudio_queue_length": 1.0,
                                  "posestudio_workers_online": 0.0}
