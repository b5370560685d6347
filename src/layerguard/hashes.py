"""The hash functions layerguard uses, without hashlib: importing it loads OpenSSL (3 ms of
every run's start, 15 ms on a cold disk) for two algorithms CPython also builds in."""

from __future__ import annotations

try:
    from _blake2 import blake2b
except ImportError:  # pragma: no cover (a Python built without it)
    from hashlib import blake2b

try:
    from _sha2 import sha256  # Python 3.12 and later
except ImportError:
    try:
        from _sha256 import sha256  # Python 3.10 and 3.11
    except ImportError:  # pragma: no cover
        from hashlib import sha256

__all__ = ["blake2b", "content_hash", "sha256"]


def content_hash(data: bytes) -> str:
    """The key of a file's bytes in the cache, the run records and the tree snapshot."""
    return blake2b(data, digest_size=16).hexdigest()
