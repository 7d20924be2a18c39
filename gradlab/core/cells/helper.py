"""A helper thread for the work of a backward pass that is off its critical path.

The walk back through time is a chain of small dependent steps. Two kinds of work do not sit on
that chain: the per-step factors of the next chunk of steps (they depend on the forward pass
only), and the weight-gradient products of the steps already walked. Both are a few large NumPy
calls, which release the GIL, so a helper thread does them on another core while the main thread
walks on. Small problems are done inline: there a thread costs more than it saves.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

MIN_ELEMENTS = 1 << 20  # T·B·G·H below which the work is done inline
SPAN = 128  # steps per weight-gradient addition: products large enough to run near peak speed


def _inline(function: Callable[..., Any], *args: Any) -> Future:
    future: Future = Future()
    try:
        future.set_result(function(*args))
    except BaseException as error:  # handed to whoever asks for the result, as from a thread
        future.set_exception(error)
    return future


def walk_back(
    seq_len: int, chunk: int, elements: int, prepare: Callable[[int, int], Any], add: Callable[[int, int], None]
) -> Iterator[tuple[int, int, Any]]:
    """The chunks of a backward pass, from the last to the first: yields ``(start, end, factors)``
    where ``factors = prepare(start, slot)`` (``slot`` 0 or 1 alternates, so the next chunk's
    factors can be prepared in another set of buffers meanwhile). Once the caller has walked a
    span of ``SPAN`` steps, ``add(start, end)`` adds it. With at least ``MIN_ELEMENTS`` elements
    and more than one core, both run on a helper thread; all is finished when the loop ends."""
    with ExitStack() as stack:
        submit = _inline
        if elements >= MIN_ELEMENTS and (os.cpu_count() or 1) > 1:
            submit = stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix="gradlab-bptt")).submit
        starts = range(((seq_len - 1) // chunk) * chunk, -1, -chunk)
        pending = submit(prepare, starts[0], 0)
        added, span_end = [], seq_len
        for index, start in enumerate(starts):
            factors = pending.result()
            if index + 1 < len(starts):
                pending = submit(prepare, starts[index + 1], (index + 1) % 2)
            yield start, min(start + chunk, seq_len), factors
            if start % SPAN == 0:
                added.append(submit(add, start, span_end))
                span_end = start
        for future in added:
            future.result()
