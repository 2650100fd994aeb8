"""Stable error codes of the transparency log, and its exception type."""

from __future__ import annotations

from enum import StrEnum


class LedgerErrorCode(StrEnum):
    ENTRY_INVALID = "ledger.entry_invalid"
    WRONG_ADMINISTRATION = "ledger.wrong_administration"
    TREE_SIZE_INVALID = "ledger.tree_size_invalid"
    INDEX_OUT_OF_RANGE = "ledger.index_out_of_range"
    SIZES_OUT_OF_ORDER = "ledger.sizes_out_of_order"
    SIZE_BEYOND_TREE = "ledger.size_beyond_tree"
    HASH_INVALID = "ledger.hash_invalid"
    ENTRY_NOT_FOUND = "ledger.entry_not_found"
    NO_CHECKPOINT = "ledger.no_checkpoint"
    NO_LOG = "ledger.no_log"
    KEY_MISSING = "ledger.key_missing"
    KEY_INVALID = "ledger.key_invalid"
    COSIGNATURE_INVALID = "ledger.cosignature_invalid"


class LedgerError(Exception):
    """A ledger operation or request was refused; ``code`` is stable, the message is for people."""

    def __init__(self, code: LedgerErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
