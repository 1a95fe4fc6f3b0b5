"""Running totals of the runs that ended (for ``/metrics``), kept in the job database.

Every worker process adds to them when a run ends (:func:`record_run`) and every web process
reads them (:func:`run_totals`), so the numbers are the same whichever process is scraped and
however many there are, on one host or several, and they survive restarts. Each total is one
row of ``posestudio_tallies``, added to with ``UPDATE ... SET value = value + x`` (atomic in
SQLite and PostgreSQL).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from jobs.models import TallyRow
from jobs.store import JobState, JobStore

#: Upper bounds (seconds) of the run-duration histogram's buckets; one more bucket, +Inf, follows.
DURATION_BUCKETS_S: tuple[float, ...] = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600)
#: The states a run can end in.
END_STATES = (JobState.SUCCEEDED.value, JobState.FAILED.value, JobState.CANCELLED.value)
_FRAMES = "frames"


def _bucket_index(duration_s: float) -> int:
    for index, bound in enumerate(DURATION_BUCKETS_S):
        if duration_s <= bound:
            return index
    return len(DURATION_BUCKETS_S)


def record_run(store: JobStore, *, state: str, duration_s: float, frames: int) -> None:
    """Add one run that ended in ``state`` after ``duration_s`` seconds having processed
    ``frames`` frames."""
    state = JobState(state).value
    if state not in END_STATES:
        raise ValueError(f"a run ends succeeded, failed or cancelled, not {state}")
    duration_s = max(0.0, float(duration_s))
    _add(store, {_FRAMES: float(max(0, frames)),
                 f"duration:{state}:{_bucket_index(duration_s)}": 1.0,
                 f"duration_sum:{state}": duration_s})


def _add(store: JobStore, amounts: dict[str, float]) -> None:
    for attempt in (1, 2):  # a second time when another process created a row meanwhile
        try:
            with store._sessions.begin() as session:
                present = set(session.scalars(select(TallyRow.name).where(TallyRow.name.in_(amounts))))
                session.add_all(TallyRow(name=name, value=0.0) for name in amounts if name not in present)
                session.flush()
                for name, amount in amounts.items():
                    session.execute(update(TallyRow).where(TallyRow.name == name)
                                    .values(value=TallyRow.value + amount))
            return
        except IntegrityError:
            if attempt == 2:
                raise


@dataclass(frozen=True)
class Durations:
    """One state's run durations as a histogram: ``buckets[i]`` runs took at most
    ``DURATION_BUCKETS_S[i]`` seconds (cumulative, the last one +Inf = all), ``sum_s`` in all."""

    buckets: tuple[int, ...]
    sum_s: float

    @property
    def count(self) -> int:
        return self.buckets[-1]


@dataclass(frozen=True)
class RunTotals:
    frames: int = 0
    durations: dict[str, Durations] = field(default_factory=dict)


def run_totals(store: JobStore) -> RunTotals:
    """Everything :func:`record_run` added up so far; every end state present (zeros where none)."""
    with store._sessions() as session:
        values = {name: value for name, value in session.execute(select(TallyRow.name, TallyRow.value))}
    durations = {}
    for state in END_STATES:
        running, cumulative = 0, []
        for index in range(len(DURATION_BUCKETS_S) + 1):
            running += int(values.get(f"duration:{state}:{index}", 0))
            cumulative.append(running)
        durations[state] = Durations(buckets=tuple(cumulative),
                                     sum_s=float(values.get(f"duration_sum:{state}", 0.0)))
    return RunTotals(frames=int(values.get(_FRAMES, 0)), durations=durations)


def bucket_bounds() -> tuple[float, ...]:
    """The buckets' upper bounds including the last, +Inf."""
    return (*DURATION_BUCKETS_S, math.inf)
