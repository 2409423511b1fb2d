"""Stopping a background task that swallows its cancellation (as redis-py's pub/sub reader can)."""

from __future__ import annotations

import asyncio

from core.tasks import cancel_and_wait, stop_if_cancelled


async def test_a_task_that_swallows_a_cancellation_is_cancelled_again_until_it_ends() -> None:
    swallowed = 0

    async def stubborn() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if swallowed == 2:
                    raise
                swallowed += 1

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await cancel_and_wait(task, grace_s=0.01)
    assert task.cancelled() and swallowed == 2


async def test_an_error_on_the_way_out_is_not_raised_to_the_one_stopping() -> None:
    async def failing_on_cancel() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            raise RuntimeError("closing the connection failed") from None

    task = asyncio.create_task(failing_on_cancel())
    await asyncio.sleep(0)
    await cancel_and_wait(task)
    assert isinstance(task.exception(), RuntimeError)


async def test_a_loop_whose_await_swallows_the_cancellation_still_ends_when_cancelled_once() -> None:
    """As a task group cancels: once. The loop's await drops the CancelledError as a library may."""
    turns = 0

    async def library_call() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            return  # swallowed

    async def loop() -> None:
        nonlocal turns
        while True:
            stop_if_cancelled()
            turns += 1
            await library_call()

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)
    task.cancel()
    async with asyncio.timeout(5):
        await asyncio.wait({task})
    assert task.cancelled() and turns == 1


async def test_a_loop_not_asked_to_stop_goes_on() -> None:
    turns = 0

    async def loop() -> None:
        nonlocal turns
        for _ in range(3):
            stop_if_cancelled()
            turns += 1
            await asyncio.sleep(0)

    await loop()
    assert turns == 3
