"""Sharding a target list over a local Dask cluster (docs/many.md): two
worker processes run check_many on their shard against loopback servers,
and the reports come back pickled, equal to the ones a local run gives.
Skipped when dask.distributed is not installed (pip install
'pytlscheck[dask]')."""
from __future__ import annotations

import pytest

distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is not installed (pip install 'pytlscheck[dask]')")

import pytlscheck  # noqa: E402
from pki import pem_of  # noqa: E402
from servers import raw_server, tls_server  # noqa: E402


def check_shard(targets, options):
    """What each Dask task runs: one batch, one thread, in the worker."""
    import pytlscheck
    return pytlscheck.check_many(targets, **options)


def shards(items, size):
    return [items[i:i + size] for i in range(0, len(items), size)]


def signature(r):
    return (r.ok, tuple((p.kind, p.depth, p.message) for p in r.problems), r.target,
            r.server_name, r.hostname, r.trust, tuple(c.fingerprint_sha256 for c in r.chain))


@pytest.fixture(scope="module")
def endpoints(root, inter, other_root):
    good = inter.leaf("localhost", "127.0.0.1")
    stranger = other_root.leaf("localhost", "127.0.0.1")
    with tls_server(pem_of(good, inter), good.key_pem) as (h, p1), \
            tls_server(stranger.pem, stranger.key_pem) as (_, p2), \
            raw_server("http") as (_, p3):
        yield [f"{h}:{p1}", f"{h}:{p2}", f"{h}:{p3}"] * 8, root.pem


@pytest.mark.parametrize("processes", [True, False], ids=["2 worker processes", "threads"])
def test_sharded_over_a_local_cluster(endpoints, processes):
    targets, trust = endpoints
    options = {"trust": trust, "timeout": 10.0, "concurrency": 8}
    # Worker processes talk TCP on loopback only; threads talk in-process.
    where = {"host": "127.0.0.1"} if processes else {}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=processes,
                                  dashboard_address=None, silence_logs=40,
                                  **where) as cluster, \
            distributed.Client(cluster) as client:
        futures = client.map(check_shard, shards(targets, 5), options=options)
        reports = [r for shard in client.gather(futures) for r in shard]
    local = pytlscheck.check_many(targets, **options)
    assert len(reports) == len(targets)
    assert [signature(r) for r in reports] == [signature(r) for r in local]
    assert [r.ok for r in reports[:3]] == [True, False, False]
    assert reports[2].kinds == ["not_tls"]
    assert all(isinstance(r, pytlscheck.Report) for r in reports)
