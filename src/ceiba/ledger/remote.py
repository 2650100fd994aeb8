"""Auditing and witnessing a log through its public API only, as an outsider would.

``verify_remote`` downloads every entry, rebuilds the tree, and checks the checkpoints, the
server's consistency proofs between them and a sample of its inclusion proofs. ``witness``
is the C2SP tlog-witness role: it keeps the last checkpoint it saw in a state file, accepts a
new one only if the log proves it is an extension of that one, and then cosigns it
(``cosignature/v1``). A smaller tree (rollback) or a different tree of the same size (split
view) is refused and reported.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ceiba.ledger import merkle
from ceiba.ledger.audit import AuditReport, TreeRebuilder, check_checkpoints
from ceiba.ledger.checkpoint import (
    CheckpointError,
    CosignatureV1Signer,
    cosign_checkpoint,
    open_checkpoint,
)
from ceiba.ledger.note import NoteError, Verifier, parse_vkey

PAGE = 1000
SAMPLE = 256
TIMEOUT = 30


class RemoteError(Exception):
    """The log could not be reached or answered something unusable."""


class WitnessError(Exception):
    """The log showed the witness something it must not cosign; ``index`` is the first doubt."""

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index


@dataclass
class Client:
    """A tiny HTTP client for one log; ``host`` overrides the Host header when set."""

    base_url: str
    host: str | None = None

    def get(self, path: str, params: dict[str, Any] | None = None) -> bytes:
        url = self.base_url.rstrip("/") + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        return self._send(urllib.request.Request(url))  # noqa: S310 - scheme checked below

    def post(self, path: str, body: bytes) -> bytes:
        url = self.base_url.rstrip("/") + path
        request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310
        request.add_header("Content-Type", "text/plain; charset=utf-8")
        return self._send(request)

    def json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        try:
            return json.loads(self.get(path, params))
        except ValueError as exc:
            raise RemoteError(f"{path}: the answer is not JSON: {exc}") from None

    def _send(self, request: urllib.request.Request) -> bytes:
        if urllib.parse.urlsplit(request.full_url).scheme not in ("http", "https"):
            raise RemoteError(f"{request.full_url}: only http and https URLs are supported")
        if self.host:
            request.add_header("Host", self.host)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
                body: bytes = response.read()
                return body
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:500].decode("utf-8", errors="replace")
            raise RemoteError(f"{request.full_url}: HTTP {exc.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise RemoteError(f"{request.full_url}: {exc}") from None


def _hash(value: Any, what: str) -> bytes:
    try:
        digest = base64.b64decode(str(value).encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise RemoteError(f"{what} is not base64") from None
    return digest


def log_verifier(client: Client, vkey: str | None) -> Verifier:
    text = vkey or client.get("/ledger/vkey").decode("utf-8").strip()
    try:
        return parse_vkey(text)
    except NoteError as exc:
        raise RemoteError(f"verifier key: {exc}") from None


def verify_remote(
    client: Client,
    *,
    vkey: str | None = None,
    seen: Sequence[str] = (),
    sample: int = SAMPLE,
    progress: Callable[[str], None] | None = None,
) -> AuditReport:
    """Audit a log through its public API; ``vkey`` pins the log key (else the served one)."""
    verifier = log_verifier(client, vkey)
    latest = client.get("/ledger/checkpoint").decode("utf-8")
    try:
        head, _note = open_checkpoint(latest, [verifier])
    except (NoteError, CheckpointError) as exc:
        report = AuditReport(origin=verifier.name)
        report.add(None, f"the latest checkpoint does not verify: {exc}")
        return report
    report = AuditReport(origin=head.origin, size=head.size)
    tree = TreeRebuilder(report)
    start = 0
    while start < head.size:
        page = client.json("/api/v1/ledger/entries", {"start": start, "limit": PAGE})
        if not isinstance(page, list) or not page:
            report.add(start, f"the log serves no entry at index {start}")
            break
        for item in page:
            digest = _hash(item.get("leaf_hash"), "leaf hash")
            if item.get("entry") is None:
                # A version 1 entry with identifiers in clear: only its leaf hash is public.
                tree.add_withheld(int(item["index"]), digest)
                continue
            entry = str(item["entry"]).encode("utf-8")
            tree.add(int(item["index"]), entry, digest)
        start += len(page)
        if progress:
            progress(f"{start}/{head.size} entries")

    history: list[str] = []
    offset = 0
    while True:
        page = client.json("/api/v1/ledger/checkpoints", {"start": offset, "limit": PAGE})
        history += [str(item["note"]) for item in page]
        if len(page) < PAGE:
            break
        offset = int(page[-1]["size"]) + 1
    heads = check_checkpoints(report, tree, list(dict.fromkeys([*history, latest])), [verifier])
    if seen:
        check_checkpoints(report, tree, list(seen), [verifier], label="checkpoint seen outside")

    # The server's own proofs must verify against what it signed.
    sizes = sorted({h.size for h in heads if h.size})
    roots = {h.size: h.root_hash for h in heads}
    for first, second in itertools.pairwise(sizes):
        proof = client.json("/api/v1/ledger/proofs/consistency", {"first": first, "second": second})
        try:
            merkle.verify_consistency(
                first,
                second,
                [_hash(h, "proof hash") for h in proof["hashes"]],
                roots[first],
                roots[second],
            )
        except merkle.MerkleError as exc:
            report.add(first - 1, f"the served consistency proof {first}->{second} fails: {exc}")
    tree.flush()
    if head.size and tree.broken_at is None and tree.size >= head.size:
        step = max(1, head.size // max(1, sample))
        for index in sorted({*range(0, head.size, step), head.size - 1}):
            proof = client.json(
                "/api/v1/ledger/proofs/inclusion", {"index": index, "size": head.size}
            )
            leaf = tree.store.get_nodes([merkle.NodeId(0, index)])[0]
            try:
                merkle.verify_inclusion(
                    leaf,
                    index,
                    head.size,
                    [_hash(h, "proof hash") for h in proof["hashes"]],
                    head.root_hash,
                )
            except merkle.MerkleError as exc:
                report.add(index, f"the served inclusion proof fails: {exc}")
    return report


# --- witness -------------------------------------------------------------------------------


def _state_path(state_dir: Path, origin: str) -> Path:
    return state_dir / (re.sub(r"[^A-Za-z0-9._-]", "_", origin) + ".json")


def witness(
    client: Client,
    signer: CosignatureV1Signer,
    state_dir: Path,
    *,
    vkey: str | None = None,
    submit: bool = False,
) -> bytes:
    """Check the log's latest checkpoint against the last one seen, then cosign it.

    Return the checkpoint with the witness's cosignature line added; raise
    :class:`WitnessError` on a rollback or a split view, without updating the state.
    """
    latest = client.get("/ledger/checkpoint").decode("utf-8")
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    verifier = log_verifier(client, vkey)
    try:
        head, _note = open_checkpoint(latest, [verifier])
    except (NoteError, CheckpointError) as exc:
        raise WitnessError(f"the log's checkpoint does not verify: {exc}") from None
    path = _state_path(state_dir, head.origin)
    if path.exists():
        state = json.loads(path.read_text())
        if state["vkey"] != getattr(verifier, "vkey", state["vkey"]):
            raise WitnessError(f"the log {head.origin} now signs with another key than before")
        old_size, old_root = int(state["size"]), base64.b64decode(state["root"])
        if head.size < old_size:
            raise WitnessError(
                f"rollback: {head.origin} shows a tree of size {head.size}, but this witness "
                f"saw size {old_size}; entries from index {head.size} have disappeared",
                index=head.size,
            )
        if head.size == old_size and head.root_hash != old_root:
            raise WitnessError(
                f"split view: {head.origin} shows two different trees of size {head.size}",
                index=head.size - 1,
            )
        if head.size > old_size and old_size > 0:
            proof = client.json(
                "/api/v1/ledger/proofs/consistency", {"first": old_size, "second": head.size}
            )
            try:
                merkle.verify_consistency(
                    old_size,
                    head.size,
                    [_hash(h, "proof hash") for h in proof["hashes"]],
                    old_root,
                    head.root_hash,
                )
            except merkle.MerkleError as exc:
                raise WitnessError(
                    f"split view: the tree of size {head.size} does not extend the tree of size "
                    f"{old_size} this witness saw ({exc})",
                    index=old_size - 1,
                ) from None
    _head, cosigned = cosign_checkpoint(latest, [verifier], signer, origin=head.origin)
    path.write_text(
        json.dumps(
            {
                "origin": head.origin,
                "vkey": getattr(verifier, "vkey", ""),
                "size": head.size,
                "root": base64.b64encode(head.root_hash).decode("ascii"),
                "checkpoint": latest,
            },
            indent=2,
        )
    )
    (state_dir / (path.stem + ".checkpoint")).write_bytes(cosigned)
    if submit:
        client.post("/api/v1/ledger/cosignatures", cosigned)
    return cosigned
