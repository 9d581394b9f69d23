"""Flat, read-only key maps for a loaded `NameIndex` (issue 14).

A built index keeps its retrieval keys in dicts (str -> an id, or a tuple of
ids): with every list, 1.3 million keys. Unpickled from a snapshot, each key
was a new string hashed into a new dict, each multi-id value a new tuple: 1.1 s
of CPU at every start, and 100 MB of objects. `FlatKeys` holds the same map in
a few byte strings that a pickle carries as they are (no object per key), and
finds a key by open addressing on the CRC-32 of its UTF-8 bytes (stable across
processes, unlike `hash(str)`), comparing the bytes themselves, so every
answer is exact. The tables are unsigned 32-bit little-endian integers in
`bytes`, read a byte at a time: compiled, that is a few nanoseconds, where an
`array` item is a generic call.

Read-only: an index that is changed after loading turns its flat maps back
into dicts first (`NameIndex._mutable`).
"""

from __future__ import annotations

import sys
import zlib
from array import array
from collections.abc import Iterable, Iterator
from typing import Any, Final

__all__ = ["FlatKeys"]

_crc32: Final = zlib.crc32
# Slots per key at least (a table at most half full: a missing key ends its probe
# at the first empty slot, after 1.5 slots on average).
_SPREAD: Final = 2
# Bits per key of the filter that turns most missing keys away before any probe
# (one bit set per key: about 1 in 8 missing keys gets through). Most keys a query
# asks for are missing (the deletions of its words).
_FILTER_BITS: Final = 8


def _encoded(key: str) -> bytes:
    try:
        return key.encode()
    except UnicodeEncodeError:  # (a lone surrogate: JSON lets one through)
        return key.encode("utf-8", "surrogatepass")


def _u32(table: bytes, i: int) -> int:
    """Item `i` of a table of unsigned 32-bit little-endian integers."""
    j = 4 * i
    return table[j] | table[j + 1] << 8 | table[j + 2] << 16 | table[j + 3] << 24


def _table(values: array[int]) -> bytes:
    if sys.byteorder != "little":
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


class FlatKeys:
    """A read-only dict of str -> int | tuple[int, ...] in flat tables: `get`,
    `in`, `len`, truth, `present` (the keys of a set that it holds), `gather` (the
    ids of several keys into a set), `items`."""

    def __init__(
        self,
        blob: bytes,
        ends: bytes,
        hashes: bytes,
        slots: bytes,
        vends: bytes,
        vals: bytes,
        seen: bytes,
    ) -> None:
        self._blob = blob  # the keys' UTF-8 bytes, one after another
        self._ends = ends  # key k is blob[ends[k]:ends[k + 1]]
        self._hashes = hashes  # the CRC-32 of key k
        self._slots = slots  # 2**n slots: k + 1 at the first free slot from crc & mask
        self._mask: int = len(slots) // 4 - 1
        self._vends = vends  # key k's ids are vals[vends[k]:vends[k + 1]]
        self._vals = vals
        self._seen = seen  # bit (crc >> 8) & _seen_mask set: some key has that CRC part
        self._seen_mask: int = len(seen) * 8 - 1
        self._size: int = len(hashes) // 4

    @staticmethod
    def of(keys: dict[str, Any]) -> FlatKeys:
        """The flat form of `keys` (values: an int or a tuple of ints, >= 0)."""
        size = 8
        while size < _SPREAD * len(keys):
            size *= 2
        mask = size - 1
        bits = 64
        while bits < _FILTER_BITS * len(keys):
            bits *= 2
        seen = bytearray(bits // 8)
        seen_mask = bits - 1
        slots = array("I", bytes(4 * size))
        blob = bytearray()
        ends = array("I", [0])
        hashes = array("I")
        vends = array("I", [0])
        vals = array("I")
        for k, (key, value) in enumerate(keys.items(), 1):
            data = _encoded(key)
            crc: int = _crc32(data)
            blob += data
            ends.append(len(blob))
            hashes.append(crc)
            bit = (crc >> 8) & seen_mask
            seen[bit >> 3] |= 1 << (bit & 7)
            if isinstance(value, tuple):
                vals.extend(value)
            else:
                vals.append(value)
            vends.append(len(vals))
            i = crc & mask
            while slots[i]:
                i = (i + 1) & mask
            slots[i] = k
        return FlatKeys(
            bytes(blob), _table(ends), _table(hashes), _table(slots), _table(vends),
            _table(vals), bytes(seen),
        )  # fmt: skip

    def __reduce__(self) -> tuple[Any, ...]:
        return FlatKeys, (
            self._blob, self._ends, self._hashes, self._slots, self._vends, self._vals,
            self._seen,
        )  # fmt: skip

    def _find(self, key: str) -> int:
        """Key `key`'s position, or -1."""
        data = _encoded(key)
        crc: int = _crc32(data)
        bit = (crc >> 8) & self._seen_mask
        if not (self._seen[bit >> 3] >> (bit & 7)) & 1:
            return -1
        slots = self._slots
        mask = self._mask
        i = crc & mask
        while True:
            k = _u32(slots, i)
            if not k:
                return -1
            k -= 1
            if _u32(self._hashes, k) == crc:
                ends = self._ends
                if self._blob[_u32(ends, k) : _u32(ends, k + 1)] == data:
                    return k
            i = (i + 1) & mask

    def _value(self, k: int) -> Any:
        vends, vals = self._vends, self._vals
        start = _u32(vends, k)
        end = _u32(vends, k + 1)
        if end - start == 1:
            return _u32(vals, start)
        return tuple([_u32(vals, j) for j in range(start, end)])

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
        vends, vals = self._vends, self._vals
        for key in keys:
            k = self._find(key)
            if k >= 0:
                for j in range(_u32(vends, k), _u32(vends, k + 1)):
                    into.add(_u32(vals, j))

    def items(self) -> Iterator[tuple[str, Any]]:
        """(key, value) in the order of the dict it was made of."""
        blob, ends = self._blob, self._ends
        for k in range(self._size):
            key = blob[_u32(ends, k) : _u32(ends, k + 1)].decode("utf-8", "surrogatepass")
            yield key, self._value(k)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.items())
