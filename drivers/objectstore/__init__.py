"""Object-store drivers: the protocol in `base`, backends loaded lazily by name."""

from __future__ import annotations

import importlib
from typing import Any

from drivers.objectstore.base import ObjectStore

# Dotted paths, imported only when asked for: the local store must not need swiftclient.
_BACKENDS = {
    "local": "drivers.objectstore.local:LocalObjectStore",
    "swift": "drivers.objectstore.swift:SwiftObjectStore",
}


def load_object_store(backend: str, **options: Any) -> ObjectStore:
    """Build the object store named `backend` ("local" or "swift") with its options."""
    try:
        module_name, _, class_name = _BACKENDS[backend].partition(":")
    except KeyError:
        known = ", ".join(sorted(_BACKENDS))
        raise ValueError(f"unknown object store backend {backend!r} (known: {known})") from None
    store_class = getattr(importlib.import_module(module_name), class_name)
    store: ObjectStore = store_class(**options)
    return store
