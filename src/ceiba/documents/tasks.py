"""Background work of the documents app: issuing a case's output document after commit."""

from __future__ import annotations
