"""Flat, read-only key maps for a loaded `NameIndex` (issue 14).

A built index keeps its retrieval keys in dicts (str -> an id, or a tuple of
ids): with every list, 1.3 million keys. Unpickled from a snapshot, each key
was a new string hashed into a new dict, each multi-id value a new tuple: 1.1 s
of CPU at every start, and 100 MB of objects. `FlatKeys` holds the same map in
six flat arrays that a pickle carries as a few byte strings (loaded with a
copy, no object per key), and finds a key by open addressing on the CRC-32 of
its UTF-8 bytes (stable across processes, unlike `hash(str)`), comparing the
bytes themselves, so every answer is exact.

Read-only: an index that is changed after loading turns its flat maps back
into dicts first (`NameIndex._mutable`).
"""

from __future__ import annotations

import zlib
from array import array
from collections.abc import Iterable, Iterator
from typing import Any, Final

__all__ = ["FlatKeys"]

# Slots per key at least (a table at most half full: a missing key ends its probe
# at the first empty slot, after 1.5 slots on average).
_SPREAD: Final = 2


def _encoded(key: str) -> bytes:
    # (a query may hold a lone surrogate: JSON lets one through)
    return key.encode("utf-8", "surrogatepass")


class FlatKeys:
    """A read-only dict of str -> int | tuple[int, ...] in flat arrays: `get`,
    `in`, `len`, truth, `present` (the keys of a set that it holds), `gather` (the
    ids of several keys into a set), `items`."""

    def __init__(
        self, blob: bytes, ends: Any, hashes: Any, slots: Any, vends: Any, vals: Any
    ) -> None:
        self._blob = blob  # the keys' UTF-8 bytes, one after another
        self._ends: Any = ends  # array("I"): key k is blob[ends[k]:ends[k + 1]]
        self._hashes: Any = hashes  # array("I"): the CRC-32 of key k
        self._slots: Any = slots  # array("i"), 2**n: k + 1 at the first free slot from crc & mask
        self._mask: int = len(slots) - 1
        self._vends: Any = vends  # array("I"): key k's ids are vals[vends[k]:vends[k + 1]]
        self._vals: Any = vals  # array("i")
        self._size: int = len(hashes)

    @staticmethod
    def of(keys: dict[str, Any]) -> FlatKeys:
        """The flat form of `keys` (values: an int or a tuple of ints)."""
        size = 8
        while size < _SPREAD * len(keys):
            size *= 2
        mask = size - 1
        slots = array("i", bytes(4 * size))
        blob = bytearray()
        ends = array("I", [0])
        hashes = array("I")
        vends = array("I", [0])
        vals = array("i")
        for k, (key, value) in enumerate(keys.items(), 1):
            data = _encoded(key)
            crc = zlib.crc32(data)
            blob += data
            ends.append(len(blob))
            hashes.append(crc)
            if isinstance(value, tuple):
                vals.extend(value)
            else:
                vals.append(value)
            vends.append(len(vals))
            i = crc & mask
            while slots[i]:
                i = (i + 1) & mask
            slots[i] = k
        return FlatKeys(bytes(blob), ends, hashes, slots, vends, vals)

    def __reduce__(self) -> tuple[Any, ...]:
        return FlatKeys, (
            self._blob, self._ends, self._hashes, self._slots, self._vends, self._vals,
        )  # fmt: skip

    def _find(self, key: str) -> int:
        """Key `key`'s position, or -1."""
        data = _encoded(key)
        crc = zlib.crc32(data)
        slots = self._slots
        mask = self._mask
        i = crc & mask
        while True:
            k: int = slots[i]
            if not k:
                return -1
            k -= 1
            if self._hashes[k] == crc:
                ends = self._ends
                if self._blob[ends[k] : ends[k + 1]] == data:
                    return k
            i = (i + 1) & mask

    def _value(self, k: int) -> Any:
        vends = self._vends
        start: int = vends[k]
        end: int = vends[k + 1]
        if end - start == 1:
            return self._vals[start]
        return tuple(self._vals[start:end])

    def get(self, key: str, default: Any = None) -> Any:
        k = self._find(key)
        return default if k < 0 else self._value(k)

    def __getitem__(self, key: str) -> Any:
        k = self._find(key)
        if k < 0:
            raise KeyError(key)
        return self._value(k)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._find(key) >= 0

    def __len__(self) -> int:
        return self._size

    def __bool__(self) -> bool:
        return self._size > 0

    def present(self, keys: Iterable[str]) -> set[str]:
        """Those of `keys` this map holds (a dict's `keys() & keys`)."""
        return {key for key in keys if self._find(key) >= 0}

    def gather(self, keys: Iterable[str], into: set[int]) -> None:
        """Add the ids under each of `keys` to `into`."""
        vends = self._vends
        vals = self._vals
        for key in keys:
            k = self._find(key)
            if k >= 0:
                start: int = vends[k]
                end: int = vends[k + 1]
                if end - start == 1:
                    into.add(vals[start])
                else:
                    into.update(vals[start:end])

    def items(self) -> Iterator[tuple[str, Any]]:
        """(key, value) in the order of the dict it was made of."""
        blob, ends = self._blob, self._ends
        for k in range(self._size):
            yield blob[ends[k] : ends[k + 1]].decode("utf-8", "surrogatepass"), self._value(k)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.items())
