"""Pools of forked worker processes that share the parent's memory.

The model's steps, the weekly maps and the extraction fork workers that read what the parent
holds (timeline, cells, render context, gazetteer) instead of receiving it pickled. A forked
child shares the parent's pages until it writes to them, and the cyclic garbage collector
writes into the header of every container object it scans: a collection in each child would
copy most of the parent's heap into it. Freezing the collector's view of the parent's objects
before the fork keeps those pages shared (``gc.freeze``), so the workers' memory is what they
make, not a copy of the parent's.
"""

from __future__ import annotations

import gc
import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.pool import Pool


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


@contextmanager
def fork_pool(workers: int) -> Iterator[Pool]:
    """A ``multiprocessing`` pool of ``workers`` forked processes, the parent's objects frozen."""
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            yield pool
    finally:
        gc.unfreeze()
