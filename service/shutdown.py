"""Termination signals as an exception, so that a stopped `dxlink` process stops its database.

Python's default SIGTERM disposition ends the process on the spot: no ``finally``, no ``atexit``.
uvicorn handles SIGTERM and SIGINT while it serves, shuts down gracefully, puts back the handlers
it found and then raises the signal again; under the default disposition `dxlink serve` died right
there and left the embedded PostgreSQL it had started running, and the next start attached to the
orphan. Inside `termination_signals()` SIGTERM and SIGINT raise `Terminated` in the main thread
instead (SIGHUP, the terminal went away, counts as SIGTERM), so the stack unwinds and the
database is stopped in a ``finally``; the process then ends by the signal it got, as shells and
process managers expect.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import NoReturn

logger = logging.getLogger(__name__)

SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class Terminated(SystemExit):
    """A termination signal arrived; a ``SystemExit`` so that ``except Exception`` lets it pass."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum


class _State:
    # Only the main thread runs Python signal handlers, and these fields are only touched there.
    installed = False
    holding = 0
    pending: int | None = None
    terminating = False


def _handle(signum: int, frame: FrameType | None) -> None:
    if signum == signal.SIGHUP:
        # uvicorn stops gracefully on SIGTERM but knows nothing of SIGHUP: hand it to whoever
        # handles SIGTERM now (uvicorn while it serves, this function otherwise).
        signal.raise_signal(signal.SIGTERM)
        return
    if _State.terminating:
        # A second signal while the process is already on its way out (Ctrl+C pressed twice,
        # `docker stop` then `kill`): raising again could cut the database's stop short.
        return
    if _State.holding:
        if _State.pending is None:
            _State.pending = signum
        return
    _State.terminating = True
    raise Terminated(signum)


@contextmanager
def termination_signals() -> Iterator[None]:
    """Within the block SIGTERM, SIGINT and SIGHUP raise `Terminated`; after it the process ends
    by that signal. The previous handlers are restored when the block ends normally.

    An ignored SIGHUP (``nohup``) stays ignored.
    """
    previous = {}
    for signum in SIGNALS:
        if signum == signal.SIGHUP and signal.getsignal(signum) == signal.SIG_IGN:
            continue
        previous[signum] = signal.signal(signum, _handle)
    _State.installed, _State.holding, _State.pending, _State.terminating = True, 0, None, False
    stopped_by: int | None = None
    try:
        yield
    except Terminated as exc:
        stopped_by = exc.signum
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _State.installed = False
    if stopped_by is not None:
        _end_by(stopped_by)


@contextmanager
def held() -> Iterator[None]:
    """Hold termination signals while the block runs (starting or stopping the database must not
    be cut in half); a signal that arrived meanwhile is raised as `Terminated` when it ends.

    Outside `termination_signals()` this does nothing: the process's own handlers apply.
    """
    _State.holding += 1
    try:
        yield
    finally:
        _State.holding -= 1
        if _State.installed and not _State.holding and _State.pending is not None:
            signum, _State.pending = _State.pending, None
            if not _State.terminating:
                _State.terminating = True
                raise Terminated(signum)


def _end_by(signum: int) -> NoReturn:
    """End the process by ``signum`` under its default disposition: shells stop a script whose
    command was interrupted, and systemd counts a SIGTERM death as a clean stop (exit code 143
    would be a failure)."""
    logger.info("stopped by %s", signal.Signals(signum).name)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
    # Still here: the kernel ignores a default-disposition signal sent to PID 1 (a container).
    raise SystemExit(128 + signum)
