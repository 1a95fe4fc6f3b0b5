"""jobs.tallies: run totals in the database, added to by many processes at once, read back exact."""
from __future__ import annotations

import multiprocessing

import pytest

from jobs import JobStore
from jobs.tallies import DURATION_BUCKETS_S, record_run, run_totals


def test_runs_add_up_into_histograms_per_end_state(db_store):
    empty = run_totals(db_store)
    assert empty.frames == 0 and set(empty.durations) == {"succeeded", "failed", "cancelled"}
    assert all(d.count == 0 and d.sum_s == 0 for d in empty.durations.values())
    record_run(db_store, state="succeeded", duration_s=12.5, frames=300)
    record_run(db_store, state="succeeded", duration_s=0.5, frames=10)
    record_run(db_store, state="failed", duration_s=99999.0, frames=7)
    totals = run_totals(db_store)
    assert totals.frames == 317
    done = totals.durations["succeeded"]
    assert done.count == 2 and done.sum_s == pytest.approx(13.0)
    bounds = list(DURATION_BUCKETS_S)
    assert done.buckets[bounds.index(1)] == 1 and done.buckets[bounds.index(15)] == 2  # cumulative
    failed = totals.durations["failed"]
    assert failed.count == 1 and failed.buckets[:-1] == (0,) * len(bounds)  # only in +Inf
    with pytest.raises(ValueError, match="not running"):
        record_run(db_store, state="running", duration_s=1, frames=1)


def _add_runs(url: str, count: int) -> None:
    store = JobStore(url)
    for _ in range(count):
        record_run(store, state="succeeded", duration_s=2.0, frames=3)
    store.close()


def test_many_processes_adding_at_once_lose_nothing(db_url):
    JobStore(db_url).close()  # the tables exist before the processes race
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_add_runs, args=(db_url, 25)) for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
        assert process.exitcode == 0
    store = JobStore(db_url)
    totals = run_totals(store)
    store.close()
    assert totals.frames == 4 * 25 * 3 and totals.durations["succeeded"].count == 100
    assert totals.durations["succeeded"].sum_s == pytest.approx(200.0)
