"""Live sessions: a limited number of slots, one tracker each, freed when a client goes silent.

A session belongs to one browser tab: it has a model, its own ``tracking.Sort`` (IDs start at 1
for every session), and takes at most one frame at a time (a second frame while one is being
answered is refused: the page sends the next frame only after the answer). A session that sent
no frame for ``idle_timeout_s`` is closed by :meth:`SessionRegistry.expire_idle`, unless a
frame of it is being answered right now; so a tab that closed, crashed or lost its network frees
its slot a few seconds later, and nothing of it is left running.

A session may belong to an ``owner`` (the web app passes the browser's owner id): only a
request for that same owner reaches it; for any other it does not exist (404), so one browser
can neither send frames to nor close another's session, even knowing its id.
"""
from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from pose import Person
from pose.boxes import whole_person_box
from pose.skeleton import OPENPOSE_18, Skeleton
from tracking import Sort

#: Frames a lost person's track is kept (about a second at the 3-10 answers a second of a CPU).
TRACK_MAX_AGE = 5
#: Answers in a row that confirm a new track before it gets its ID.
TRACK_MIN_HITS = 2
#: Skeletons with fewer than this share of their parts only continue tracks (ByteTrack's second
#: round), as in the video pipeline (pipeline.analyse).
LOW_SCORE_THRESHOLD = 0.5


class SessionsFull(Exception):
    """Every live slot is taken."""


class SessionNotFound(KeyError):
    """No such session: never made, closed, or expired after its client went silent."""


class SessionBusy(Exception):
    """A frame of this session is being answered already."""


@dataclass(eq=False)
class LiveSession:
    id: str
    model: str
    parts: int
    created: float
    last_seen: float
    owner: str | None = None
    frames: int = 0
    busy: bool = False
    tracker: Sort = field(default_factory=lambda: Sort(max_age=TRACK_MAX_AGE, min_hits=TRACK_MIN_HITS,
                                                       low_score_threshold=LOW_SCORE_THRESHOLD,
                                                       report_unconfirmed=True))

    def track(self, people: list[Person], skeleton: Skeleton = OPENPOSE_18) -> list[int | None]:
        """Each person's track ID in this frame (None: not confirmed yet), in ``people``'s order;
        ``skeleton``: what their keypoints are (the model's)."""
        boxes = np.array([whole_person_box(p.keypoints, skeleton=skeleton) for p in people],
                         dtype=np.float64).reshape(-1, 4)
        scores = np.array([p.num_parts / self.parts for p in people], dtype=np.float64)
        ids: list[int | None] = [None] * len(people)
        for obj in self.tracker.update(boxes, scores):
            if obj.detection_index is not None:
                ids[obj.detection_index] = obj.track_id
        return ids


class SessionRegistry:
    """At most ``limit`` sessions at once; ``clock`` is ``time.monotonic``. Thread-safe."""

    def __init__(self, limit: int, idle_timeout_s: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.idle_timeout_s, self._clock = limit, idle_timeout_s, clock
        self._sessions: dict[str, LiveSession] = {}
        self._lock = threading.Lock()

    def create(self, model: str, parts: int, owner: str | None = None) -> LiveSession:
        """A new session for ``model`` (whose skeleton has ``parts`` parts), reachable by ``owner``
        only; raises SessionsFull."""
        with self._lock:
            if len(self._sessions) >= self.limit:
                raise SessionsFull()
            now = self._clock()
            session = LiveSession(id=secrets.token_hex(16), model=model, parts=parts, created=now, last_seen=now,
                                  owner=owner)
            self._sessions[session.id] = session
            return session

    def _get(self, session_id: str, owner: str | None) -> LiveSession:
        session = self._sessions.get(session_id)
        if session is None or not hmac.compare_digest((session.owner or "").encode(), (owner or "").encode()):
            raise SessionNotFound(session_id)
        return session

    def begin_frame(self, session_id: str, owner: str | None = None) -> LiveSession:
        """Mark the session busy with one frame; raises SessionNotFound or SessionBusy. A busy
        session does not expire; its idle time restarts only when the frame is answered."""
        with self._lock:
            session = self._get(session_id, owner)
            if session.busy:
                raise SessionBusy()
            session.busy = True
            return session

    def end_frame(self, session: LiveSession, *, answered: bool = True) -> None:
        """The frame is done: ``answered`` (its people found) restarts the session's idle time; a
        refused frame (not a JPEG, damaged, too big) does not, so sending junk keeps no slot."""
        with self._lock:
            session.busy = False
            if answered:
                session.last_seen = self._clock()
                session.frames += 1

    def close(self, session_id: str, owner: str | None = None) -> bool:
        """Close ``owner``'s session ``session_id``; False when there is no such session of theirs."""
        with self._lock:
            try:
                self._get(session_id, owner)
            except SessionNotFound:
                return False
            del self._sessions[session_id]
            return True

    def expire_idle(self) -> list[str]:
        """Close every session silent for ``idle_timeout_s`` and not answering a frame; their ids."""
        with self._lock:
            cutoff = self._clock() - self.idle_timeout_s
            gone = [s.id for s in self._sessions.values() if not s.busy and s.last_seen < cutoff]
            for session_id in gone:
                del self._sessions[session_id]
            return gone

    def counts(self) -> tuple[int, int]:
        """(open sessions, sessions answering a frame right now)."""
        with self._lock:
            return len(self._sessions), sum(s.busy for s in self._sessions.values())
