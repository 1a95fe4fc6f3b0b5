"""jobs.queries: counts by state, the admin's filtered and paged search, the database ping."""
from __future__ import annotations

from jobs import JobState
from jobs.queries import count_by_state, ping, search_jobs


def _job(store, name, state="queued"):
    job = store.create_job(source_name=name, options={}, owner=None, source_meta={})
    if state in ("running", "succeeded", "failed"):
        claim = store.mark_running(job.id, worker="w").claim
        if state == "succeeded":
            store.mark_succeeded(job.id, outputs={}, timings={}, claim=claim)
        elif state == "failed":
            store.mark_failed(job.id, error="broken", claim=claim)
    elif state == "cancelled":
        store.request_cancel(job.id)
    return store.get(job.id)


def test_counts_every_state_with_zeros(db_store):
    assert count_by_state(db_store) == {"queued": 0, "running": 0, "succeeded": 0, "failed": 0, "cancelled": 0}
    for state, n in (("queued", 2), ("running", 1), ("succeeded", 3), ("failed", 1), ("cancelled", 1)):
        for i in range(n):
            _job(db_store, f"{state}-{i}.mp4", state)
    assert count_by_state(db_store) == {"queued": 2, "running": 1, "succeeded": 3, "failed": 1, "cancelled": 1}
    ping(db_store)


def test_search_filters_by_state_and_name_and_pages_newest_first(db_store):
    made = [_job(db_store, name, state) for name, state in (
        ("Street 1.mp4", "succeeded"), ("street_2.mp4", "failed"), ("100%_dance.mov", "succeeded"),
        ("park.mp4", "queued"), ("STREET-3.avi", "succeeded"))]
    everything = search_jobs(db_store, limit=2)
    assert everything.total == 5 and [j.source_name for j in everything.jobs] == ["STREET-3.avi", "park.mp4"]
    assert everything.has_next
    last = search_jobs(db_store, offset=4, limit=2)
    assert [j.source_name for j in last.jobs] == ["Street 1.mp4"] and not last.has_next
    street = search_jobs(db_store, text_query="street")
    assert sorted(j.source_name for j in street.jobs) == ["STREET-3.avi", "Street 1.mp4", "street_2.mp4"]
    done_street = search_jobs(db_store, text_query="street", states=[JobState.SUCCEEDED])
    assert sorted(j.source_name for j in done_street.jobs) == ["STREET-3.avi", "Street 1.mp4"]
    # % and _ are letters here, not wildcards
    assert [j.source_name for j in search_jobs(db_store, text_query="%").jobs] == ["100%_dance.mov"]
    assert [j.source_name for j in search_jobs(db_store, text_query="t_2").jobs] == ["street_2.mp4"]
    by_id = search_jobs(db_store, text_query=made[3].id[:10])
    assert [j.id for j in by_id.jobs] == [made[3].id]
    assert search_jobs(db_store, states=["failed", "queued"]).total == 2
