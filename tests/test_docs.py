"""The coverage documents are what the tables generate (regenerate: python -m cloudgate.docs)."""

from __future__ import annotations

import pytest

from cloudgate.docs import DOCS, DOCUMENTS


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_coverage_document_is_current(name: str) -> None:
    assert (DOCS / name).read_text() == DOCUMENTS[name](), "run: python -m cloudgate.docs"
