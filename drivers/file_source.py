"""The I/O shell of a file binding: a folder (local or a network share) that a tester writes one
result file per board into. Polled, not watched, so SMB and NFS shares work the same.

A file is read once it is finished: its size and modification time unchanged for `settle_s`
(a tester still writing it grows it), or, when the binding names a `done_marker`, once the
tester has written `<file><marker>` beside it. It is parsed here (`drivers.fileformat`), handed to
the writer, and moved to `done/` (or `failed/` when it could not be parsed; the dead-letter table
has it with the reason) only after the writer has committed it. So a killed ingest leaves the
file where it was and reads it again at the next start, and the content-derived record ids make
that second reading duplicates, not new records.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drivers.fileformat import parse_file
from drivers.ingest import Batch, Health
from drivers.items import Reject
from drivers.lineformat import Context
from line.clock import Clock, SystemClock
from line.config import Plant
from line.config_model import BindingDef

log = logging.getLogger("linemon.files")
MAX_FILE_BYTES = 64 * 2**20  # a larger file is a mistake (a wrong folder), not a board report
PURGE_EVERY_S = 3600.0


@dataclass
class _Seen:
    size: int
    mtime: float
    since: float  # monotonic time it was first seen with this size and mtime


def watch_folder(folder: Path, wake: threading.Event, name: str) -> Any:
    """A watch that sets `wake` on any change in `folder` (inotify on Linux, through watchdog);
    None where it cannot run (no such folder yet, a share without change notices, the system's
    watch limit): the polling goes on without it."""
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    class _Wake(FileSystemEventHandler):
        def on_any_event(self, event: Any) -> None:  # never raises: only sets an event
            wake.set()

    if not folder.is_dir():
        return None
    observer = Observer()
    try:
        observer.schedule(_Wake(), str(folder), recursive=False)
        observer.start()
    except OSError as exc:
        log.info("%s: no change notices for %s (%s); polling", name, folder, exc)
        return None
    return observer


class FileSource:
    def __init__(
        self,
        b: BindingDef,
        plant: Plant,
        put: Callable[[Batch], None],
        health: Health,
        folder: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.b, self.plant, self.put, self.health = b, plant, put, health
        self.folder = Path(folder or b.path or ".")
        self.fmt = plant.spec.formats[b.format]
        self.pattern = b.pattern or ("*.xml" if self.fmt.type == "xml" else "*.csv")
        self.clock = clock or SystemClock()
        self.line = plant.station(b.station_id).line
        self._seen: dict[Path, _Seen] = {}
        self._handed: dict[str, str] = {}  # file path -> "done" or "failed", until committed
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()  # set by the folder watch when something changed there
        self._watch: Any = None
        self._thread: threading.Thread | None = None
        self._next_purge = 0.0

    def start(self) -> None:
        self._watch = watch_folder(self.folder, self._wake, self.b.id)
        self._thread = threading.Thread(target=self._run, name=f"files-{self.b.id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._watch is not None:
            self._watch.stop()
        if self._thread is not None:
            self._thread.join(10)

    def committed(self, tokens: list[str]) -> None:
        """From the writer's reply: these files' records are stored; move them out of the inbox."""
        for token in tokens:
            with self._lock:  # the scan skips a handed file until it is gone from the folder:
                dest = self._handed.get(token)  # forgotten only after the move, or a scan in
            if dest is not None:  # between would read it again
                self._move(Path(token), dest)
                with self._lock:
                    self._handed.pop(token, None)

    # ------------------------------------------------------------------ the polling loop
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._scan()
            except OSError as exc:  # a share that went away: say so and keep trying
                self.health.set("reconnecting", f"{self.folder}: {exc}")
            except Exception:  # never let the thread die silently
                log.exception("%s: scanning %s", self.b.id, self.folder)
            self._wake.wait(self._next_look())
            self._wake.clear()

    def _next_look(self) -> float:
        """Seconds until the next scan: `poll_s`, or sooner when a file seen being written will
        have settled (the folder watch wakes the scan on a change; polling stays for the shares
        it cannot see into)."""
        now = time.monotonic()
        settles = [d for s in self._seen.values() if (d := s.since + self.b.settle_s - now) > 0]
        return max(0.05, min([self.b.poll_s, *settles]))

    def _scan(self) -> None:
        if not self.folder.is_dir():
            self.health.set("reconnecting", f"{self.folder}: no such folder")
            return
        self.health.set("connected", str(self.folder))
        if time.monotonic() >= self._next_purge:
            self.purge(time.time() - self.b.keep_days * 86400)
            self._next_purge = time.monotonic() + PURGE_EVERY_S
        now = time.monotonic()
        present = set()
        for path in sorted(self.folder.glob(self.pattern)):
            if not path.is_file() or (self.b.done_marker and path.name.endswith(self.b.done_marker)):
                continue
            present.add(path)
            with self._lock:
                if str(path) in self._handed:
                    continue
            if self._finished(path, now):
                self._hand_over(path)
        self._seen = {p: s for p, s in self._seen.items() if p in present}

    def _finished(self, path: Path, now: float) -> bool:
        if self.b.done_marker:
            return path.with_name(path.name + self.b.done_marker).exists()
        st = path.stat()
        seen = self._seen.get(path)
        if seen is None or (seen.size, seen.mtime) != (st.st_size, st.st_mtime):
            self._seen[path] = _Seen(st.st_size, st.st_mtime, now)
            return False
        return now - seen.since >= self.b.settle_s

    def _hand_over(self, path: Path) -> None:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            items: list = [Reject(f"{path.name}: {size:,} bytes, more than a result file holds", b"")]
        else:
            data = path.read_bytes()
            ctx = Context(self.b, self.line, self.plant.tz, self.clock.now())
            items = list(parse_file(self.fmt, ctx, data, path.name))
        failed = bool(items) and all(isinstance(i, Reject) for i in items)
        self.health.message()
        with self._lock:
            self._handed[str(path)] = "failed" if failed else "done"
        self.put(Batch(self.b.id, str(path), items, token=str(path)))

    def purge(self, before_epoch: float) -> int:
        """Delete the read files in done/ and failed/ last changed before `before_epoch`: the raw
        reports (an SPI's pads) are kept `keep_days`, their per-board summaries in the store."""
        gone = 0
        for sub in ("done", "failed"):
            for f in (self.folder / sub).glob("*") if (self.folder / sub).is_dir() else []:
                try:
                    if f.is_file() and f.stat().st_mtime < before_epoch:
                        f.unlink()
                        gone += 1
                except OSError as exc:
                    log.warning("%s: cannot delete %s (%s)", self.b.id, f, exc)
        if gone:
            log.info("%s: %d read files older than %g days deleted", self.b.id, gone, self.b.keep_days)
        return gone

    def _move(self, path: Path, dest: str) -> None:
        target_dir = self.folder / dest
        try:
            target_dir.mkdir(exist_ok=True)
            target = target_dir / path.name
            if target.exists():  # the same name again (a re-sent report): keep both
                target = target_dir / f"{path.stem}.{int(time.time() * 1000)}{path.suffix}"
            path.replace(target)
            if self.b.done_marker:
                marker = path.with_name(path.name + self.b.done_marker)
                if marker.exists():
                    marker.replace(target_dir / marker.name)
        except OSError as exc:
            log.error("%s: cannot move %s to %s/ (%s); it will be read again", self.b.id, path, dest, exc)
