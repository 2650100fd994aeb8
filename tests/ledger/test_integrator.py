"""The integrator: batches, nodes, checkpoints, idempotence."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ceiba.ledger import merkle
from ceiba.ledger.checkpoint import open_checkpoint
from ceiba.ledger.integrator import DatabaseNodeStore, integrate
from ceiba.ledger.models import Checkpoint, LedgerEntry, Log, Node
from ceiba.ledger.note import parse_vkey
from tests.conftest import Tenant
from tests.ledger.conftest import record_accesses

pytestmark = pytest.mark.django_db


def _in_memory(payloads: list[bytes]) -> merkle.InMemoryNodeStore:
    store = merkle.InMemoryNodeStore()
    store.put_nodes(merkle.append_leaves(store, 0, [merkle.leaf_hash(p) for p in payloads]))
    return store


def test_integration_builds_the_rfc9162_tree_and_signs_it(
    grown_log: Callable[[int], Log],
) -> None:
    # given / when: 3 then 20 entries, integrated in batches of 7
    grown_log(3)
    log = grown_log(20)

    # then: indexes follow recording order (after the key's own entry) and the stored tree
    # equals the reference tree
    entries = list(LedgerEntry.objects.filter(log=log).order_by("id"))
    assert entries[0].kind == "admin_change"
    assert [e.index for e in entries] == list(range(24))
    payloads = [bytes(e.payload) for e in entries]
    reference = _in_memory(payloads)
    assert bytes(log.root_hash) == merkle.root_hash(reference, 24)
    stored = {(n.level, n.index): bytes(n.hash) for n in Node.objects.filter(log=log)}
    assert len(stored) == sum(24 >> level for level in range(5))
    for (level, index), digest in stored.items():
        assert reference.get_nodes([merkle.NodeId(level, index)])[0] == digest
    # and: a checkpoint per integration run, verifiable with the published key
    checkpoints = list(Checkpoint.objects.filter(log=log).order_by("size"))
    assert [c.size for c in checkpoints] == [4, 24]
    head, _note = open_checkpoint(checkpoints[-1].note, [parse_vkey(log.vkey)])
    assert head.origin == "alpha.example/ceiba-log"
    assert head.size == 24
    assert head.root_hash == bytes(log.root_hash)


def test_running_twice_changes_nothing(grown_log: Callable[[int], Log]) -> None:
    log = grown_log(5)
    nodes_before = Node.objects.filter(log=log).count()

    again = integrate(log.pk)

    assert again.appended == 0
    assert again.size == 6
    assert Node.objects.filter(log=log).count() == nodes_before
    assert Checkpoint.objects.filter(log=log).count() == 1


def test_without_a_key_the_tree_grows_but_nothing_is_signed(
    tenant_a: Tenant, ledger_var: Path
) -> None:
    record_accesses(tenant_a, 4)
    log = Log.objects.get()

    result = integrate(log.pk)

    assert result.appended == 4
    assert result.checkpoint is None
    assert not Checkpoint.objects.exists()


def test_each_log_is_its_own_tree(tenant_a: Tenant, tenant_b: Tenant, ledger_var: Path) -> None:
    record_accesses(tenant_a, 3)
    record_accesses(tenant_b, 2)
    for log in Log.objects.all():
        integrate(log.pk)
    sizes = dict(Log.objects.values_list("origin", "size"))
    assert sizes == {"alpha.example/ceiba-log": 3, "beta.example/ceiba-log": 2}
    b_indexes = LedgerEntry.objects.filter(administration=tenant_b.administration)
    assert sorted(b_indexes.values_list("leaf__index", flat=True)) == [0, 1]


def test_a_proof_reads_the_nodes_in_one_query(grown_log: Callable[[int], Log]) -> None:
    log = grown_log(99)
    store = DatabaseNodeStore(log.pk)
    with CaptureQueriesContext(connection) as queries:
        proof = merkle.inclusion_proof(store, 37, 100)
    assert len(queries) == 1
    leaf = merkle.leaf_hash(bytes(LedgerEntry.objects.get(log=log, leaf__index=37).payload))
    merkle.verify_inclusion(leaf, 37, 100, proof, bytes(log.root_hash))
    with CaptureQueriesContext(connection) as queries:
        consistency = merkle.consistency_proof(store, 13, 100)
    assert len(queries) == 1
    old_root = merkle.root_hash(store, 13)
    merkle.verify_consistency(13, 100, consistency, old_root, bytes(log.root_hash))


def test_a_missing_node_is_reported(grown_log: Callable[[int], Log]) -> None:
    log = grown_log(7)
    Node.objects.filter(log=log, level=3, index=0).delete()
    with pytest.raises(merkle.MissingNodeError, match=r"level 3, index 0"):
        merkle.root_hash(DatabaseNodeStore(log.pk), 8)
