"""Fixtures for the object-store contract: one `store` per backend, a fresh namespace each.

Swift is the real all-in-one from scripts/swift-aio, started here when it is not running (and
left running) unless CLOUDGATE_SWIFT_AUTH_URL points elsewhere. When it cannot be had, the
Swift cases are skipped with the reason, except under CI=true, where that is a failure.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from drivers.objectstore.base import NoSuchContainer, ObjectStore
from drivers.objectstore.local import LocalObjectStore

SWIFT_AIO = Path(__file__).resolve().parents[3] / "scripts" / "swift-aio"


def _aio(command: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SWIFT_AIO), command],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def _exports(text: str) -> dict[str, str]:
    """The variables of `swift-aio env` ("export NAME=value" lines)."""
    found = {}
    for line in text.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, _, value = words[1].partition("=")
            found[name] = value
    return found


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"Swift is required under CI: {reason}", pytrace=False)
    pytest.skip(f"Swift all-in-one not available: {reason}")


@pytest.fixture(scope="session")
def swift_settings() -> dict[str, str]:
    """auth_url, user and key of a running Swift, started if it is not running."""
    if os.environ.get("CLOUDGATE_SWIFT_AUTH_URL"):
        return {
            "auth_url": os.environ["CLOUDGATE_SWIFT_AUTH_URL"],
            "user": os.environ.get("CLOUDGATE_SWIFT_USER", "admin:admin"),
            "key": os.environ.get("CLOUDGATE_SWIFT_KEY", "admin"),
        }
    # Left running afterwards, like the machine's databases: other suites (and other runs
    # at the same time) share the one all-in-one, so no suite may stop it under the others.
    try:
        if _aio("status", timeout=60).returncode != 0:
            # The first start installs Swift into its own venv: a minute or two.
            result = _aio("start", timeout=900)
            if result.returncode != 0:
                _unavailable(f"scripts/swift-aio start failed:\n{result.stderr[-2000:]}")
        exports = _exports(_aio("env", timeout=60).stdout)
    except (OSError, subprocess.TimeoutExpired) as error:
        _unavailable(f"scripts/swift-aio: {error}")
    return {
        "auth_url": exports["CLOUDGATE_SWIFT_AUTH_URL"],
        "user": exports["CLOUDGATE_SWIFT_USER"],
        "key": exports["CLOUDGATE_SWIFT_KEY"],
    }


@pytest.fixture(params=["local", pytest.param("swift", marks=pytest.mark.swift)])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def store(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    if backend == "local":
        yield LocalObjectStore(tmp_path / "objects")
        return
    from drivers.objectstore.swift import SwiftObjectStore

    swift = SwiftObjectStore(**request.getfixturevalue("swift_settings"))
    yield swift
    swift.close()


@pytest.fixture
def new_namespace(store: ObjectStore) -> Iterator[Callable[[], str]]:
    """Make fresh namespaces (tenants); whatever a test left in them is removed after it."""
    made: list[str] = []

    def make() -> str:
        namespace = uuid.uuid4().hex
        made.append(namespace)
        return namespace

    yield make
    for namespace in made:
        _purge(store, namespace)


@pytest.fixture
def namespace(new_namespace: Callable[[], str]) -> str:
    return new_namespace()


def _purge(store: ObjectStore, namespace: str) -> None:
    # Keeps the shared Swift account space small across runs; local dirs go with tmp_path.
    for container in store.list_containers(namespace):
        try:
            while True:
                listing = store.list_objects(namespace, container.name)
                for entry in listing.objects:
                    store.delete_object(namespace, container.name, entry.key)
                if not listing.is_truncated:
                    break
            store.delete_container(namespace, container.name)
        except NoSuchContainer:
            pass
