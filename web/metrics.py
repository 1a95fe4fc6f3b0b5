"""``GET /metrics``: Prometheus metrics (text exposition format, ``prometheus_client``).

Every value is read when scraped from what all processes share, so any web process gives the
same answer however many gunicorn workers and Celery processes there are, on one host or more:

- ``posestudio_jobs{state}``: jobs in each state, counted in the job database.
- ``posestudio_job_duration_seconds{state}`` (histogram) and
  ``posestudio_frames_processed_total``: runs that ended in a worker, by end state, and the
  frames they processed; totals the workers add to in the job database (``jobs.tallies``), so
  they survive restarts and need no shared folder (prometheus_client's multiprocess mode would
  need one between the web app and every worker, cleaned at the right moment, and its numbers
  restart with it).
- ``posestudio_queue_length``, ``posestudio_workers_online`` and ``posestudio_broker_up``: from
  the broker, through the web process's background view (``web.broker_view``: a few seconds
  old at most). Every scrape has all three, whichever process answers it: a process's first
  scrape waits once for its first view of the broker (``FIRST_WAIT_S``, 3 s at most; later
  scrapes never wait). While the broker is down, or did not answer that first wait,
  broker_up is 0, workers_online 0 (no worker can be reached) and queue_length is the number
  of jobs queued in the job database (what waits for a worker).
- ``posestudio_storage_bytes{folder}`` and ``posestudio_disk_free_bytes``: the uploads and
  outputs folders, added up at most once a minute.

Behind the admin gate (``web.admin_gate``) unless ``METRICS_PUBLIC`` is set.
"""
from __future__ import annotations

from typing import Iterator

from flask import Blueprint, Response, current_app
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from jobs.queries import count_by_state
from jobs.tallies import bucket_bounds, run_totals
from web.admin_gate import refuse_unless_admin
from web.state import WebState, state

bp = Blueprint("metrics", __name__)


class ServiceCollector:
    """A prometheus_client collector that reads the service's state on every scrape."""

    def __init__(self, web: WebState, views) -> None:  # noqa: ANN001 - web.broker_view.ServiceViews
        self.web, self.views = web, views

    def collect(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily("posestudio_jobs", "Jobs in the job database, by state.", labels=["state"])
        for name, number in count_by_state(self.web.store).items():
            jobs.add_metric([name], number)
        yield jobs
        totals = run_totals(self.web.store)
        durations = HistogramMetricFamily(
            "posestudio_job_duration_seconds",
            "How long runs took, from the worker's claim to the end, by the state they ended in.",
            labels=["state"])
        for name, histogram in totals.durations.items():
            buckets = [(_le(bound), count) for bound, count in zip(bucket_bounds(), histogram.buckets)]
            durations.add_metric([name], buckets, histogram.sum_s)
        yield durations
        yield CounterMetricFamily("posestudio_frames_processed",
                                  "Video frames processed by runs that ended.", value=totals.frames)
        yield from self._broker()
        yield from self._storage()

    def _broker(self) -> Iterator[Metric]:
        broker, _age = self.views.broker.get(wait=True)  # only a process's first scrape waits
        up = broker is not None and broker.reachable
        yield GaugeMetricFamily("posestudio_broker_up", "1 if the job queue (broker) answered.",
                                value=1 if up else 0)
        queued = broker.queue_length if up else count_by_state(self.web.store)["queued"]
        yield GaugeMetricFamily("posestudio_queue_length", "Jobs waiting in the queue for a worker (while "
                                "the broker is down: jobs queued in the job database).", value=queued)
        yield GaugeMetricFamily("posestudio_workers_online", "Workers that answered a broadcast.",
                                value=len(broker.workers) if up else 0)

    def _storage(self) -> Iterator[Metric]:
        storage, _age = self.views.storage.get(wait=False)
        if storage is None:
            return
        used = GaugeMetricFamily("posestudio_storage_bytes", "Bytes in the uploads and outputs folders.",
                                 labels=["folder"])
        used.add_metric(["uploads"], storage.uploads.bytes)
        used.add_metric(["outputs"], storage.outputs.bytes)
        yield used
        if storage.disk_free_bytes is not None:
            yield GaugeMetricFamily("posestudio_disk_free_bytes", "Free bytes on the outputs folder's disk.",
                                    value=storage.disk_free_bytes)


def _le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(float(bound))


def _registry() -> CollectorRegistry:
    registry = current_app.extensions.get("posestudio.metrics")
    if registry is None:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(ServiceCollector(state(), current_app.extensions["posestudio.views"]))
        current_app.extensions["posestudio.metrics"] = registry
    return registry


@bp.get("/metrics")
def metrics() -> Response:
    if not state().settings.metrics_public:
        refusal = refuse_unless_admin()
        if refusal is not None:
            return refusal
    # The 0.0.4 text format, which every Prometheus reads (the names here need no escaping).
    return Response(generate_latest(_registry()), mimetype=None,
                    headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4, "Cache-Control": "no-store"})
