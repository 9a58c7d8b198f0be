"""Per-document extraction and geocoding, in this process or spread over a Dask cluster.

``--scheduler local`` starts a ``dask.distributed.LocalCluster`` with one single-threaded
worker process per core; ``--scheduler tcp://host:port`` uses an existing cluster. Documents
go to the workers in small batches with a bounded number in flight, so memory stays flat
however long the corpus; the faction registry and gazetteer are sent to every worker once.
Results come back in document order: the tables are the same as a single-process run.

Dask is an optional extra (``pip install 'geo_control[dask]'``): it is imported only when a
scheduler is asked for.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import pandas as pd

from geo_control.errors import GeoControlError
from geo_control.factions import FactionRegistry
from geo_control.records import Document

if TYPE_CHECKING:  # pragma: no cover
    from distributed import Client

log = logging.getLogger(__name__)

#: Documents per task: large enough to hide the scheduler's per-task cost (~1 ms), small
#: enough to balance two workers on a short corpus.
BATCH_SIZE = 16
#: Batches in flight per worker: keeps workers busy without holding the corpus in memory.
IN_FLIGHT_PER_WORKER = 4

Tables = tuple[pd.DataFrame, pd.DataFrame]


class SchedulerError(GeoControlError, ValueError):
    """A --scheduler value that cannot be used."""


def extract_document(doc: Document, factions: FactionRegistry, gazetteer) -> Tables:
    """Extract and geocode one document: its (events, unresolved) tables."""
    from geo_control.extract import extract
    from geo_control.geocode import locate

    statements = extract(doc, factions)
    return locate(statements, gazetteer, doc_text=doc.text)


def _extract_batch(resources, docs: list[Document]) -> list[Tables]:
    factions, gazetteer = resources
    return [extract_document(doc, factions, gazetteer) for doc in docs]


def check_scheduler(scheduler: str) -> None:
    """Raise SchedulerError unless ``scheduler`` is ``local`` or a scheduler address (no dask import)."""
    if scheduler != "local" and not scheduler.startswith(("tcp://", "tls://")):
        raise SchedulerError(f"--scheduler '{scheduler}': use 'local' or the address of a Dask "
                             "scheduler, e.g. tcp://10.0.0.5:8786")


def connect(scheduler: str) -> Client:
    """A dask.distributed client for ``local`` or ``tcp://host:port``."""
    check_scheduler(scheduler)
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise SchedulerError(f"--scheduler {scheduler} needs Dask: pip install 'geo_control[dask]'") from None
    if scheduler == "local":
        cluster = LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
        log.info("dask: LocalCluster with %d workers", len(cluster.workers))
        return client
    try:
        client = Client(scheduler, timeout="20s")
    except OSError as exc:
        raise SchedulerError(f"--scheduler {scheduler}: cannot reach the Dask scheduler ({exc}); "
                             "start it with 'dask scheduler' or check the address") from None
    log.info("dask: connected to %s (%d workers)", scheduler, len(client.scheduler_info()["workers"]))
    return client


def close(client: Client) -> None:
    """Close the client, and the cluster if this process started it."""
    cluster = getattr(client, "cluster", None)
    client.close()
    if cluster is not None:
        cluster.close()


def _batches(items: Iterable[tuple[int, Document]], size: int) -> Iterator[list[tuple[int, Document]]]:
    batch: list[tuple[int, Document]] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def map_documents(
    client: Client,
    documents: Iterable[tuple[int, Document]],
    factions: FactionRegistry,
    gazetteer,
    on_result: Callable[[int, Document, Tables], None],
    batch_size: int | None = None,
) -> None:
    """Extract and geocode ``(index, document)`` pairs on the cluster.

    ``on_result(index, doc, tables)`` is called in this process as batches finish (in any
    order); the caller puts the results back in document order.
    """
    from distributed import as_completed

    n_workers = max(1, len(client.scheduler_info()["workers"]))
    resources: Any = client.scatter((factions, gazetteer), broadcast=True, hash=False)
    batches = _batches(documents, batch_size or BATCH_SIZE)
    pending: dict[Any, list[tuple[int, Document]]] = {}

    def submit(batch: list[tuple[int, Document]]):
        future = client.submit(_extract_batch, resources, [d for _, d in batch], pure=False)
        pending[future] = batch
        return future

    first = [submit(b) for _, b in zip(range(n_workers * IN_FLIGHT_PER_WORKER), batches, strict=False)]
    done = as_completed(first)
    for future in done:
        batch = pending.pop(future)
        results = future.result()
        future.release()
        for (i, doc), tables in zip(batch, results, strict=True):
            on_result(i, doc, tables)
        nxt = next(batches, None)
        if nxt is not None:
            done.add(submit(nxt))
