"""A lease lock in S3: the S3 registry's stand-in for the local registry's file lock.

Why a lock and not per-record compare-and-swap: the engine's rules span several records (a new
version number is the highest one plus one; activating a detector version deactivates the
previous ACTIVE one and updates the detector), exactly the read-modify-write sequences the local
registry runs under ``filelock``. One lock object per registry keeps those sequences identical
on both backends.

How: the lock is the object ``<registry>/.lock``. Taking it is ``PutObject`` with
``IfNoneMatch="*"`` (only one writer can create it); the body records the holder and an expiry.
A holder that died (Lambda timeout, crash) leaves a lock whose expiry passed; a contender then
takes it over with ``PutObject IfMatch=<etag of the stale lock>``, so of two contenders only
one wins the takeover. Release is ``DeleteObject IfMatch=<our etag>``: it never deletes a lock
someone else took over. The lease (default 60 s) must exceed the longest hold: the engine holds
it for a few S3 requests and one asynchronous Lambda invocation, well under a second.

Re-entrant within a thread, like ``filelock.FileLock`` (the engine nests ``locked()`` calls).
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from fraudpipe.errors import RegistryLockTimeoutError
from fraudpipe.s3_objects import ConditionFailed, S3Objects

__all__ = ["S3LeaseLock"]

LOCK_NAME = ".lock"


class S3LeaseLock:
    """Mutual exclusion between processes (and Lambda sandboxes) over one S3 object."""

    def __init__(self, objects: S3Objects, lease_seconds: float = 60.0,
                 timeout: float = 120.0, poll: float = 0.05) -> None:
        self.objects, self.lease, self.timeout, self.poll = objects, lease_seconds, timeout, poll
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._local = threading.local()
        self._thread_lock = threading.RLock()  # threads of one process queue here first

    @property
    def _depth(self) -> int:
        return getattr(self._local, "depth", 0)

    def _try_take(self) -> str | None:
        """Our ETag if we now hold the lock, else None."""
        body = {"owner": self.owner, "expires": time.time() + self.lease}
        try:
            return self.objects.put_json(LOCK_NAME, body, if_none_match=True)
        except ConditionFailed:
            pass
        current = self.objects.get_json(LOCK_NAME)
        if current is None:
            return None  # released meanwhile: try again at once
        data, etag = current
        if float(data.get("expires", 0)) > time.time():
            return None
        try:  # the holder's lease ran out: take it over, unless someone else just did
            return self.objects.put_json(LOCK_NAME, body, if_match=etag)
        except ConditionFailed:
            return None

    def acquire(self) -> None:
        if self._depth:
            self._local.depth += 1
            return
        if not self._thread_lock.acquire(timeout=self.timeout):
            raise RegistryLockTimeoutError(
                f"registry lock {self.objects.uri(LOCK_NAME)}: busy for {self.timeout:.0f} s")
        deadline = time.monotonic() + self.timeout
        while True:
            etag = self._try_take()
            if etag is not None:
                self._local.etag, self._local.depth = etag, 1
                return
            if time.monotonic() > deadline:
                self._thread_lock.release()
                raise RegistryLockTimeoutError(
                    f"registry lock {self.objects.uri(LOCK_NAME)} held by another process for "
                    f"more than {self.timeout:.0f} s")
            time.sleep(self.poll)

    def release(self) -> None:
        if self._depth > 1:
            self._local.depth -= 1
            return
        etag, self._local.etag, self._local.depth = self._local.etag, None, 0
        try:
            self.objects.delete(LOCK_NAME, if_match=etag)
        except ConditionFailed:
            pass  # our lease ran out and someone took the lock over: it is theirs now
        finally:
            self._thread_lock.release()

    @contextmanager
    def held(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()
