"""Stopping background tasks for sure.

`task.cancel()` then `await task` hangs for good when the task swallows the cancellation: redis-py's
pub/sub reader and a connection being opened can catch the CancelledError delivered at the wrong
moment and carry on reading. A process (or a test app's lifespan) then never finishes shutting down.
`cancel_and_wait` cancels again until the task has ended; a task's own long-lived loop calls
`stop_if_cancelled` at each turn, for the callers (a task group) that cancel only once.
"""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)

# How long a cancelled task may take to end before it is cancelled again.
CANCEL_GRACE_S = 2.0


async def cancel_and_wait(task: asyncio.Task[object], *, grace_s: float = CANCEL_GRACE_S) -> None:
    """Cancels `task` and returns once it has ended; an error it ended with is logged, not raised."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=grace_s)
        if not task.done():
            log.warning("task %s did not end when cancelled; cancelling it again", task.get_name())
    if not task.cancelled() and task.exception() is not None:
        log.warning("task %s ended with an error while stopping", task.get_name(), exc_info=task.exception())


def stop_if_cancelled() -> None:
    """Raises CancelledError in a task that was asked to stop but whose cancellation was swallowed.

    Something awaited below (a driver, a client library) may catch the CancelledError thrown into
    it and return or raise its own error, which the loop then handles as a hiccup and goes on: the
    live alarm evaluator ran on that way under its ingest worker's task group, which cancels once
    and then waits for good. `Task.cancelling()` still counts the request, so checking it at each
    turn ends the loop as it was asked.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
