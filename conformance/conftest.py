"""Fixtures every conformance scenario may use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conformance.s3_support import EndpointPool


@pytest.fixture(scope="session")
def s3_endpoints(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EndpointPool]:
    """The S3 scenarios' servers, shared by the session (see conformance/s3_support.py)."""
    pool = EndpointPool(tmp_path_factory)
    try:
        yield pool
    finally:
        pool.stop()
