"""S3 through cloudgate on Swift, side by side with Swift's own s3api, direct Swift and moto.

One run, one machine, one Swift all-in-one (scripts/swift-aio): cloudgate's S3 on a Swift proxy,
Swift's s3api middleware in proxies of that same Swift (s3_acl on and off), python-swiftclient
straight at the proxy (the ceiling a gateway can reach) and moto_server (in memory). Every S3
endpoint is driven by the same boto3 code with the same sizes; every phase runs over all the
systems back to back, so that a load change on the shared machine hits them alike.

    python -m bench --quick s3        (or: python -m bench.s3 --mode smoke|quick|full)
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bench.common import (
    Curve,
    SuiteResult,
    Table,
    Target,
    peak_rss,
    percentile,
    ratio,
    run_suite,
    timed,
)
from bench.s3_peers import Store, peer_stores

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

CLOUDGATE = "cloudgate"
S3API_ACL = "s3api (s3_acl on)"
S3API_NO_ACL = "s3api (s3_acl off)"
DIRECT = "swiftclient (direct)"
MOTO = "moto_server"
# The ratios the tables and targets report: cloudgate against each of these.
PEERS = (S3API_ACL, S3API_NO_ACL, DIRECT, MOTO)
# Issue 6's targets.
SMALL_VS_S3API = 1.0
SMALL_VS_DIRECT = 1 / 1.3
LARGE_VS_DIRECT = 0.9


@dataclass(frozen=True)
class Sizes:
    small_ops: int  # 1 KiB operations of each kind, per concurrency level
    concurrency: tuple[int, ...]
    object_sizes: tuple[int, ...]  # the PUT/GET curve; the largest is the "large object"
    repeats: dict[int, int]  # how many PUT/GET pairs per object size (median reported)
    list_counts: tuple[int, ...]  # ListObjectsV2 over this many keys (the curve)
    delete_count: int  # DeleteObjects of this many keys


SIZES = {
    "smoke": Sizes(8, (1, 2), (KiB, 256 * KiB), {KiB: 1, 256 * KiB: 1}, (10, 20), 5),
    "quick": Sizes(
        100,
        (1, 8),
        (KiB, 64 * KiB, MiB, 16 * MiB, 64 * MiB),
        {KiB: 10, 64 * KiB: 5, MiB: 3, 16 * MiB: 1, 64 * MiB: 1},
        (250, 500, 1000),
        200,
    ),
    "full": Sizes(
        1000,
        (1, 8),
        (KiB, MiB, 16 * MiB, 256 * MiB, GiB),
        {KiB: 50, MiB: 20, 16 * MiB: 5, 256 * MiB: 2, GiB: 2},
        (1000, 2500, 5000, 10000),
        1000,
    ),
}


def main(argv: list[str] | None = None) -> None:
    run_suite(
        "s3",
        "S3: cloudgate on Swift vs Swift's s3api, direct swiftclient and moto_server",
        body,
        argv,
    )


def body(result: SuiteResult) -> None:
    sizes = SIZES[result.mode]
    with ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-s3-")))
        stores = stack.enter_context(peer_stores(directory))
        workers = max(sizes.concurrency)
        memory = {}
        for store in stores:
            store.open(workers)
            memory[store.name] = stack.enter_context(peak_rss(store.pids(), every=0.2))
        bodies = {size: payload_file(directory, size) for size in sizes.object_sizes}
        small = small_objects(stores, sizes)
        objects = object_sizes(stores, sizes, bodies)
        listing = list_and_delete(stores, sizes)
    report(result, sizes, stores, small, objects, listing, memory)


# ---------------------------------------------------------------- phases


def small_objects(stores: list[Store], sizes: Sizes) -> dict[tuple[str, str, int], Run]:
    """1 KiB PUT, then GET, then HEAD of the same keys, at each concurrency level."""
    payload = os.urandom(KiB)
    runs: dict[tuple[str, str, int], Run] = {}
    for clients in sizes.concurrency:
        keys = [f"small/{clients}/{index:06d}" for index in range(sizes.small_ops)]
        operations: dict[str, Callable[[Store, int, str], object]] = {
            "PUT": lambda store, worker, key: store.put(worker, key, payload, KiB),
            "GET": lambda store, worker, key: store.get(worker, key),
            "HEAD": lambda store, worker, key: store.head(worker, key),
        }
        for operation, call in operations.items():
            for store in stores:
                runs[store.name, operation, clients] = concurrently(store, call, keys, clients)
    return runs


def object_sizes(
    stores: list[Store], sizes: Sizes, bodies: dict[int, Path]
) -> dict[tuple[str, str, int], float]:
    """Median seconds of one PUT and one GET, per object size."""
    seconds: dict[tuple[str, str, int], float] = {}
    for size in sizes.object_sizes:
        for store in stores:
            puts, gets = [], []
            for repeat in range(sizes.repeats[size]):
                key = f"sized/{size}/{repeat}"
                with bodies[size].open("rb") as file:
                    puts.append(timed(lambda: store.put(0, key, file, size)))  # noqa: B023
                got = 0

                def get() -> None:
                    nonlocal got
                    got = store.get(0, key)  # noqa: B023

                gets.append(timed(get))
                if got != size:
                    raise RuntimeError(f"{store.name}: GET of {size} bytes returned {got}")
            seconds[store.name, "PUT", size] = statistics.median(puts)
            seconds[store.name, "GET", size] = statistics.median(gets)
            # Not measured: the large objects would otherwise stay in the shared all-in-one
            # (gigabytes a full run); the small keys of the other phases are left.
            store.delete_many(0, [f"sized/{size}/{repeat}" for repeat in range(len(puts))])
    return seconds


def list_and_delete(stores: list[Store], sizes: Sizes) -> dict[tuple[str, str, int], float]:
    """ListObjectsV2 (all pages) as the bucket grows to each key count, then DeleteObjects."""
    seconds: dict[tuple[str, str, int], float] = {}
    workers = max(sizes.concurrency)
    filled = 0
    for count in sizes.list_counts:
        keys = [f"list/{index:06d}" for index in range(filled, count)]
        for store in stores:
            # Filled concurrently (not measured); the bucket also holds the earlier phases' keys.
            concurrently(store, lambda store, worker, key: store.put(worker, key, b"", 0), keys,
                         workers)  # fmt: skip
        filled = count
        for store in stores:
            store.list_count(0)  # warm: the first listing may page in the container's database
            listed = 0

            def listing() -> None:
                nonlocal listed
                listed = store.list_count(0)  # noqa: B023

            seconds[store.name, "LIST", count] = timed(listing)
            if listed < count:
                raise RuntimeError(f"{store.name}: listed {listed} of at least {count} keys")
    doomed = [f"list/{index:06d}" for index in range(sizes.delete_count)]
    for store in stores:
        seconds[store.name, "DELETE", len(doomed)] = timed(lambda: store.delete_many(0, doomed))  # noqa: B023
    return seconds


# ---------------------------------------------------------------- measuring


@dataclass
class Run:
    ops_per_second: float
    latencies: list[float]


def concurrently(
    store: Store, call: Callable[[Store, int, str], object], keys: Sequence[str], clients: int
) -> Run:
    """KEYS shared out over CLIENTS threads, each with its own client; wall time → ops/s."""
    shares = [keys[worker::clients] for worker in range(clients)]

    def work(worker: int) -> list[float]:
        latencies = []
        for key in shares[worker]:
            started = time.perf_counter()
            call(store, worker, key)
            latencies.append(time.perf_counter() - started)
        return latencies

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = [value for share in pool.map(work, range(clients)) for value in share]
    elapsed = time.perf_counter() - started
    return Run(len(keys) / elapsed, latencies)


def payload_file(directory: Path, size: int) -> Path:
    """SIZE random-looking bytes on disk (a random MiB repeated): bodies are read from files,
    as a client uploading a file would, and the page cache keeps them in memory."""
    path = directory / f"payload-{size}"
    block = os.urandom(min(size, MiB))
    with path.open("wb") as file:
        for offset in range(0, size, len(block)):
            file.write(block[: size - offset])
    return path


# ---------------------------------------------------------------- the document


def report(
    result: SuiteResult,
    sizes: Sizes,
    stores: list[Store],
    small: dict[tuple[str, str, int], Run],
    objects: dict[tuple[str, str, int], float],
    listing: dict[tuple[str, str, int], float],
    memory: dict[str, dict[str, int]],
) -> None:
    names = [store.name for store in stores]
    ops = ("PUT", "GET", "HEAD")
    small_table = Table(
        "1 KiB objects: operations per second (p50 / p99 latency in ms)",
        ["system", *(f"{op} ×{c}" for c in sizes.concurrency for op in ops)],
        note=f"{sizes.small_ops} operations of each kind per cell; ×N: N concurrent clients",
    )
    for name in names:
        row: list[object] = [name]
        for clients in sizes.concurrency:
            for op in ops:
                run = small[name, op, clients]
                row.append(
                    f"{run.ops_per_second:.0f} ({percentile(run.latencies, 50) * 1000:.1f} / "
                    f"{percentile(run.latencies, 99) * 1000:.1f})"
                )
        small_table.rows.append(row)
    result.tables.append(small_table)

    largest = max(sizes.object_sizes)
    biggest_list = max(sizes.list_counts)
    timings = (
        (objects, "PUT", largest, f"PUT {human(largest)}"),
        (objects, "GET", largest, f"GET {human(largest)}"),
        (listing, "LIST", biggest_list, f"List {biggest_list}"),
        (listing, "DELETE", sizes.delete_count, f"Delete {sizes.delete_count}"),
    )
    ratios = Table(
        "cloudgate's speed as a ratio of each peer's (> 1: cloudgate is faster)",
        ["peer", *(f"{op} ×{c}" for c in sizes.concurrency for op in ops),
         *(title for *_, title in timings)],
        note="1 KiB columns: ops/s over ops/s; the others: the peer's time over cloudgate's",
    )  # fmt: skip
    for peer in PEERS:
        ratios.rows.append(
            [peer, *(small_ratio(small, op, c, peer) for c in sizes.concurrency for op in ops),
             *(ratio(seconds[peer, op, size], seconds[CLOUDGATE, op, size])
               for seconds, op, size, _ in timings)]
        )  # fmt: skip
    result.tables.append(ratios)

    large = Table(
        f"{human(largest)} objects: MB/s (single PUT / GET, median of {sizes.repeats[largest]})",
        ["system", "PUT MB/s", "GET MB/s", "PUT vs direct", "GET vs direct"],
    )
    for name in names:
        put, get = (largest / objects[name, op, largest] / 1e6 for op in ("PUT", "GET"))
        large.rows.append(
            [name, round(put, 1), round(get, 1),
             ratio(objects[DIRECT, "PUT", largest], objects[name, "PUT", largest]),
             ratio(objects[DIRECT, "GET", largest], objects[name, "GET", largest])]
        )  # fmt: skip
    result.tables.append(large)

    bulk = Table(
        "Listing and bulk delete (seconds)",
        ["system", f"ListObjectsV2 {biggest_list} keys", f"DeleteObjects {sizes.delete_count}",
         "peak RSS MiB"],
        note="ListObjectsV2 pages of 1,000 (swiftclient: container GETs of 1,000); peak RSS of"
        " the server process over the whole run (Swift: its proxy; the plain proxy behind"
        " cloudgate is the direct one's, so its peak includes cloudgate's traffic)",
    )  # fmt: skip
    for name in names:
        bulk.rows.append(
            [name, round(listing[name, "LIST", biggest_list], 3),
             round(listing[name, "DELETE", sizes.delete_count], 3),
             round(memory[name]["peak"] / MiB)]
        )  # fmt: skip
    result.tables.append(bulk)

    for op in ("PUT", "GET"):
        curve = Curve(f"{op} latency against object size", "object size (bytes)",
                      "seconds per request (median)", log_x=True, log_y=True)  # fmt: skip
        for name in names:
            for size in sizes.object_sizes:
                curve.add(name, size, round(objects[name, op, size], 6))
        result.curves.append(curve)
    curve = Curve("ListObjectsV2 (every page) against key count", "keys in the bucket",
                  "seconds", log_x=True, log_y=True)  # fmt: skip
    for name in names:
        for count in sizes.list_counts:
            curve.add(name, count, round(listing[name, "LIST", count], 4))
    result.curves.append(curve)

    result.targets.extend(targets(sizes, small, objects))


def small_ratio(small: dict[tuple[str, str, int], Run], op: str, clients: int, peer: str) -> float:
    return ratio(
        small[CLOUDGATE, op, clients].ops_per_second, small[peer, op, clients].ops_per_second
    )


def targets(
    sizes: Sizes,
    small: dict[tuple[str, str, int], Run],
    objects: dict[tuple[str, str, int], float],
) -> list[Target]:
    cells = [(op, c) for c in sizes.concurrency for op in ("PUT", "GET", "HEAD")]
    found = []
    for peer, floor, name, wanted in (
        (S3API_ACL, SMALL_VS_S3API, "small objects vs s3api (s3_acl on)",
         "cloudgate 1 KiB ops/s ≥ 1.0× s3api's"),
        (DIRECT, SMALL_VS_DIRECT, "small objects vs direct swiftclient",
         "cloudgate 1 KiB ops/s ≥ swiftclient's / 1.3 (ratio ≥ 0.77)"),
    ):  # fmt: skip
        measured = {cell: small_ratio(small, *cell, peer) for cell in cells}
        met = all(value >= floor for value in measured.values())
        found.append(
            Target(
                name,
                wanted,
                ", ".join(f"{op} ×{c}: {v}×" for (op, c), v in measured.items()),
                met,
                "" if met else SMALL_CAUSE,
            )
        )
    largest = max(sizes.object_sizes)
    measured = {
        op: ratio(objects[DIRECT, op, largest], objects[CLOUDGATE, op, largest])
        for op in ("PUT", "GET")
    }
    met = all(value >= LARGE_VS_DIRECT for value in measured.values())
    found.append(
        Target(
            f"{human(largest)} objects vs direct Swift",
            "cloudgate MB/s ≥ 90% of swiftclient's",
            ", ".join(f"{op}: {v}×" for op, v in measured.items()),
            met,
            "" if met else LARGE_CAUSE,
        )
    )
    return found


# Why a target is short when it is: what profiling cloudgate under this benchmark showed
# (py-spy on the server, CPU seconds per request from /proc); kept next to the measurement
# so that the result document carries it.
SMALL_CAUSE = (
    "per-request CPU in cloudgate, on top of the Swift proxy's own: a 1 KiB request runs 4-6"
    " short database transactions (access key, bucket with policy and ACL, versioning,"
    " lifecycle, tagging: about 12 SQL statements through SQLAlchemy), two event-loop/thread"
    " hops, pure-Python HTTP parsing (uvicorn on h11) and a Swift request through requests;"
    " a PUT also HEADs the old object first, to find multipart segments to delete. cloudgate"
    " alone spent 1.3-1.8x the CPU per request that s3api's proxy spends on the whole"
    " request (it checks auth and ACLs in-process, against memcached-cached account and"
    " container info), and the proxy behind cloudgate then does its share"
)
LARGE_CAUSE = (
    "an upload crosses cloudgate's Python HTTP stack twice: uvicorn's pure-Python h11 parser"
    " hands the body over in reads of at most 64 KiB, pausing and resuming the socket for"
    " each (the larger part of the server's CPU in a large PUT), then requests sends it on"
    " to Swift, on the same two cores as the Swift proxy and object server; a download streams in"
    " 1 MiB chunks and comes closer to direct Swift"
)


def human(size: int) -> str:
    for unit, scale in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if size >= scale:
            return f"{size // scale} {unit}"
    return f"{size} B"


if __name__ == "__main__":
    main()
