"""Offline catalogue search: Chinese substrings, full pinyin, pinyin initials and aliases, ranked.

A query is normalised (`pinyin_keys.normalize`: NFKC, lower case, no whitespace or punctuation) and compared
with the normalised name and aliases of every item and with their precomputed full pinyin and initials. Each
hit carries the score of the best rule it meets; rules are tried in this order:

    score  matched     rule
    100    "name"      the query equals the name, or the full pinyin of the name
     90    "alias"     the query equals an alias, its full pinyin or its initials
     85    "initials"  the query equals the initials of the name
     80    "initials"  the query is a prefix of the initials of the name or of an alias
     75    "initials"  the query is a substring of those initials
     70    "prefix"    the name or an alias, in Chinese or in full pinyin, starts with the query
     60    "substring" the query is a substring of the name or an alias
     60    "pinyin"    the query is a substring of the full pinyin of the name or an alias

Within one score, items come in a fixed order: shorter name first (length of the name as stored), then code.
An item appears once, with its best score. A blank query, or one longer than every key, gives no hits.

How it stays fast on 100,000 items without calling pypinyin: items are numbered 0..N-1 in that fixed order, so
"ranked by item order" is "ascending item number". Exact and prefix rules bisect sorted key lists. Substring
rules use one long string per key kind (all items' keys joined with newlines, in item order) plus an inverted
index from character n-grams (single characters; for pinyin and initials also letter pairs) to sorted numpy
arrays of item numbers. The posting arrays are intersected, and the survivors are checked with a bounded
`str.find` in item order until enough hits are found. If an intersection leaves many false candidates, the
check falls back to scanning the long string with `str.find`, which bounds the worst case at one pass in C.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate

import numpy as np
import numpy.typing as npt

from kiosk_app.catalog.pinyin_keys import normalize, pinyin_keys

__all__ = [
    "SCORE_ALIAS",
    "SCORE_INITIALS_PREFIX",
    "SCORE_INITIALS_SUBSTRING",
    "SCORE_NAME",
    "SCORE_NAME_INITIALS",
    "SCORE_PREFIX",
    "SCORE_SUBSTRING",
    "CatalogSearchIndex",
    "SearchEntry",
    "SearchHit",
]

SCORE_NAME = 100
SCORE_ALIAS = 90
SCORE_NAME_INITIALS = 85
SCORE_INITIALS_PREFIX = 80
SCORE_INITIALS_SUBSTRING = 75
SCORE_PREFIX = 70
SCORE_SUBSTRING = 60

IdArray = npt.NDArray[np.int32]

# Below this many ids, plain Python set/sort is cheaper than numpy's call overhead.
_SMALL_RANGE = 64
# Intersecting more posting lists than this rarely removes anything the final substring check would not.
_MAX_INTERSECT = 6
# Candidates are intersected and checked in windows of the shortest posting list, growing to the maximum.
_FIRST_WINDOW = 512
_MAX_WINDOW = 1 << 15
# After this many candidates checked one by one, scanning the joined string in C is the cheaper bound.
_VERIFY_BUDGET = 2048
_BUILD_CHUNK = 1 << 19
# Gram codes: a character is its code point (< 2**21); a pair is ((first + 1) << 21) | second (< 2**43); an
# ASCII triple is 2**43 | 7-bit codes. Item numbers share the int64 sort key with the gram code, hence the
# item limit of 2**19, above the 500,000 items a catalogue document may hold.
_CODE_BITS = 21
_ASCII = 128
_TRIGRAM_BASE = 1 << (2 * _CODE_BITS + 1)
_GRAM_BITS = 2 * _CODE_BITS + 2
_MAX_ITEMS = 1 << (63 - _GRAM_BITS)
_SEPARATOR = "\n"  # never inside a normalised key: normalize drops control characters


@dataclass(frozen=True, slots=True)
class SearchEntry:
    """One item as the index sees it.

    The pinyin keys must be exactly what `pinyin_keys` returns for the name and each alias (the importer
    stores them at import time); the index compares them with the normalised query as they are.
    """

    code: str
    name: str
    aliases: tuple[str, ...]
    name_pinyin: str
    name_initials: str
    alias_pinyin: tuple[str, ...]
    alias_initials: tuple[str, ...]

    def __post_init__(self) -> None:
        if not (len(self.aliases) == len(self.alias_pinyin) == len(self.alias_initials)):
            raise ValueError(f"item {self.code}: alias keys do not match the aliases")

    @classmethod
    def from_text(cls, code: str, name: str, aliases: Iterable[str] = ()) -> SearchEntry:
        """Compute the pinyin keys (slow: pypinyin) — for importers and tests, not for index start-up."""
        alias_tuple = tuple(aliases)
        name_pinyin, name_initials = pinyin_keys(name)
        alias_keys = [pinyin_keys(alias) for alias in alias_tuple]
        return cls(
            code=code,
            name=name,
            aliases=alias_tuple,
            name_pinyin=name_pinyin,
            name_initials=name_initials,
            alias_pinyin=tuple(full for full, _ in alias_keys),
            alias_initials=tuple(initials for _, initials in alias_keys),
        )


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One result: `score` and `matched` are the rule it met best (see the module docstring)."""

    code: str
    name: str
    score: int
    matched: str


def _smallest_new(ids: IdArray, need: int, seen: dict[int, tuple[int, str]]) -> list[int]:
    """The `need` smallest distinct ids in `ids` (any order, repeats allowed) that are not in `seen`."""
    if need <= 0 or ids.size == 0:
        return []
    if ids.size <= _SMALL_RANGE:
        return [i for i in sorted(set(ids.tolist())) if i not in seen][:need]
    want = need + len(seen)
    while True:
        # The `want` smallest values (with repeats) contain every distinct value up to the largest of them,
        # so their distinct values are a prefix of the sorted distinct ids; grow until it is long enough.
        smallest = ids if want >= ids.size else np.partition(ids, want - 1)[:want]
        fresh = [i for i in np.unique(smallest).tolist() if i not in seen]
        if len(fresh) >= need or want >= ids.size:
            return fresh[:need]
        want *= 2


class _KeyTable:
    """Sorted (key, item) pairs answering "key equals q" and "key starts with q" by bisection."""

    __slots__ = ("_ids", "_keys")

    def __init__(self, pairs: Iterable[tuple[str, int]]) -> None:
        pairs = sorted(pairs)
        self._keys = [key for key, _ in pairs]
        self._ids: IdArray = np.fromiter((item for _, item in pairs), dtype=np.int32, count=len(pairs))

    def exact(self, query: str) -> IdArray:
        low = bisect.bisect_left(self._keys, query)
        high = bisect.bisect_right(self._keys, query, lo=low)
        return self._ids[low:high]

    def prefixed(self, query: str) -> IdArray:
        size = len(query)
        low = bisect.bisect_left(self._keys, query)
        high = bisect.bisect_right(self._keys, query, lo=low, key=lambda key: key[:size])
        return self._ids[low:high]


class _GramField:
    """Substring search over one kind of key (text, full pinyin or initials) of every item."""

    __slots__ = ("_grams", "_joined", "_postings", "_starts")

    def __init__(self, keys_per_item: Sequence[Sequence[str]]) -> None:
        segments = [_SEPARATOR.join(keys) + _SEPARATOR for keys in keys_per_item]
        self._joined = "".join(segments)
        lengths = [len(segment) for segment in segments]
        del segments
        # Item i owns joined[starts[i]:starts[i + 1]]; array('q') keeps 100k offsets in 800 kB, not 3.6 MB.
        self._starts = array("q", accumulate(lengths, initial=0))
        # Each gram maps to a view into one sorted int32 array per gram size: the items containing it.
        self._grams: dict[str, IdArray] = {}
        self._postings: list[IdArray] = []
        if lengths:
            self._index(np.array(lengths, dtype=np.int64))

    def _index(self, lengths: npt.NDArray[np.int64]) -> None:
        codes: npt.NDArray[np.uint8] | npt.NDArray[np.uint32]
        if self._joined.isascii():  # pinyin and initials: a quarter of the memory of UTF-32
            codes = np.frombuffer(self._joined.encode("ascii"), dtype=np.uint8)
        else:
            codes = np.frombuffer(self._joined.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        owners = np.repeat(np.arange(lengths.size, dtype=np.int32), lengths)
        item_bits = max(1, (lengths.size - 1).bit_length())
        for size in (1, 2, 3):
            keys = _gram_keys(codes, owners, size, item_bits)
            if keys.size == 0:
                continue
            items = (keys & ((1 << item_bits) - 1)).astype(np.int32)
            self._postings.append(items)
            keys >>= item_bits
            bounds = np.flatnonzero(keys[1:] != keys[:-1]) + 1
            starts = [0, *bounds.tolist()]
            stops = [*bounds.tolist(), keys.size]
            for gram_code, start, stop in zip(keys[starts].tolist(), starts, stops, strict=True):
                self._grams[_decode_gram(gram_code)] = items[start:stop]

    @property
    def nbytes(self) -> int:
        postings = sum(int(items.nbytes) for items in self._postings)
        return postings + len(self._joined.encode("utf-8", "surrogatepass")) + 8 * len(self._starts)

    def search(self, query: str, need: int, seen: dict[int, tuple[int, str]]) -> list[int]:
        """Up to `need` items not in `seen` with a key containing `query`, ascending."""
        if need <= 0:
            return []
        grams = _query_grams(query)
        lists: list[IdArray] = []
        for gram in grams:
            posting = self._grams.get(gram)
            if posting is None:
                return []
            lists.append(posting)
        lists.sort(key=len)
        # When the query is itself an indexed gram, its posting list is the exact answer: nothing to verify.
        certain = query in grams
        base, others = lists[0], lists[1:_MAX_INTERSECT]
        hits: list[int] = []
        checked = 0
        joined, starts = self._joined, self._starts
        position, window = 0, _FIRST_WINDOW
        # The shortest list is walked in growing windows, in item order, so a common query stops after the
        # first window instead of intersecting tens of thousands of ids it will never show.
        while position < base.size:
            block = base[position : position + window]
            position += window
            window = min(window * 4, _MAX_WINDOW)
            for other in others:
                at = np.minimum(np.searchsorted(other, block), other.size - 1)
                block = block[other[at] == block]
                if block.size == 0:
                    break
            for item in block.tolist():
                if item in seen:
                    continue
                if certain or joined.find(query, starts[item], starts[item + 1]) >= 0:
                    hits.append(item)
                    if len(hits) >= need:
                        return hits
            checked += block.size
            if not certain and checked > _VERIFY_BUDGET and position < base.size:
                return hits + self._scan(query, need - len(hits), seen, int(base[position]))
        return hits

    def _scan(self, query: str, need: int, seen: dict[int, tuple[int, str]], first_item: int) -> list[int]:
        hits: list[int] = []
        joined, starts = self._joined, self._starts
        position = starts[first_item]
        while len(hits) < need:
            found = joined.find(query, position)
            if found < 0:
                break
            item = bisect.bisect_right(starts, found) - 1
            if item not in seen:
                hits.append(item)
            position = starts[item + 1]
        return hits


def _gram_keys(
    codes: npt.NDArray[np.uint8] | npt.NDArray[np.uint32],
    owners: npt.NDArray[np.int32],
    size: int,
    item_bits: int,
) -> npt.NDArray[np.int64]:
    """Sorted, distinct (gram << item_bits | item) keys of every gram of `size` characters in `codes`."""
    chunks: list[npt.NDArray[np.int64]] = []
    total = codes.size - size + 1
    # Chunked so that the int64 temporaries of a 100k-item field stay a few tens of MB at a time.
    for start in range(0, max(total, 0), _BUILD_CHUNK):
        stop = min(start + _BUILD_CHUNK, total)
        window = [codes[start + shift : stop + shift].astype(np.int64) for shift in range(size)]
        valid = np.ones(stop - start, dtype=bool)
        for column in window:
            valid &= column != ord(_SEPARATOR)
        if size == 1:
            grams = window[0]
        elif size == 2:
            grams = ((window[0] + 1) << _CODE_BITS) | window[1]
        else:
            for column in window:
                valid &= column < _ASCII
            grams = _TRIGRAM_BASE | (window[0] << 14) | (window[1] << 7) | window[2]
        keys = (grams[valid] << item_bits) | owners[start:stop][valid]
        del grams, valid, window
        chunks.append(_sorted_distinct(keys))
    if len(chunks) <= 1:
        return chunks[0] if chunks else np.zeros(0, dtype=np.int64)
    merged = np.concatenate(chunks)
    chunks.clear()
    # Timsort ("stable") merges the already sorted chunks in near-linear time; quicksort would start over.
    return _sorted_distinct(merged, merge_runs=True)


def _sorted_distinct(keys: npt.NDArray[np.int64], *, merge_runs: bool = False) -> npt.NDArray[np.int64]:
    # np.unique would do, but numpy 2 routes it through a hash table that is several times slower here.
    keys.sort(kind="stable" if merge_runs else "quicksort")
    if keys.size < 2:
        return keys
    fresh = np.empty(keys.size, dtype=bool)
    fresh[0] = True
    np.not_equal(keys[1:], keys[:-1], out=fresh[1:])
    return keys[fresh]


def _decode_gram(code: int) -> str:
    if code >= _TRIGRAM_BASE:
        code -= _TRIGRAM_BASE
        return chr(code >> 14) + chr((code >> 7) & 127) + chr(code & 127)
    if code >> _CODE_BITS:
        return chr((code >> _CODE_BITS) - 1) + chr(code & ((1 << _CODE_BITS) - 1))
    return chr(code)


def _query_grams(query: str) -> set[str]:
    """The grams whose posting lists must all hold an item for `query` to be a substring of its keys."""
    if len(query) <= 2:
        return {query}
    grams: set[str] = set()
    for index in range(len(query) - 2):
        triple = query[index : index + 3]
        if triple.isascii():
            grams.add(triple)
        else:
            # Only ASCII triples are indexed (pinyin is ASCII); elsewhere the two pairs stand in for it.
            grams.update((triple[:2], triple[1:]))
    return grams


class CatalogSearchIndex:
    """An immutable in-memory index over the catalogue; build once at start-up or after an import."""

    __slots__ = (
        "_alias_initials",
        "_alias_text",
        "_codes",
        "_initials",
        "_max_key_length",
        "_name_initials",
        "_name_text",
        "_names",
        "_pinyin",
        "_text",
    )

    def __init__(self, entries: Sequence[SearchEntry]) -> None:
        """Index `entries`, already in priority order; use `build` unless you know they are."""
        if len(entries) >= _MAX_ITEMS:
            raise ValueError(f"too many items for one index: {len(entries)}")
        self._codes = [entry.code for entry in entries]
        self._names = [entry.name for entry in entries]
        if len(set(self._codes)) != len(self._codes):
            raise ValueError("duplicate item codes in the search entries")
        texts = [(normalize(e.name), *(normalize(alias) for alias in e.aliases)) for e in entries]
        # No key is longer than this (initials never outgrow the full pinyin), so longer queries stop early.
        self._max_key_length = max(
            (
                len(key)
                for e, text in zip(entries, texts, strict=True)
                for key in (*text, e.name_pinyin, *e.alias_pinyin)
            ),
            default=0,
        )
        # Each table's pair list is built, sorted and dropped in turn, to keep the build's peak memory down.
        self._name_text = _KeyTable(
            pair for item, e in enumerate(entries) for pair in ((texts[item][0], item), (e.name_pinyin, item))
        )
        # Alias initials sit in the alias table too: an alias typed as its initials ("sbk") is an alias hit.
        self._alias_text = _KeyTable(
            (key, item)
            for item, e in enumerate(entries)
            for keys in zip(texts[item][1:], e.alias_pinyin, e.alias_initials, strict=True)
            for key in keys
        )
        self._name_initials = _KeyTable((e.name_initials, item) for item, e in enumerate(entries))
        self._alias_initials = _KeyTable(
            (key, item) for item, e in enumerate(entries) for key in e.alias_initials
        )
        self._text = _GramField(texts)
        del texts
        self._pinyin = _GramField([(e.name_pinyin, *e.alias_pinyin) for e in entries])
        self._initials = _GramField([(e.name_initials, *e.alias_initials) for e in entries])

    @classmethod
    def build(cls, entries: Iterable[SearchEntry]) -> CatalogSearchIndex:
        """Index `entries` in any order; ties rank shorter names first, then by code."""
        return cls(sorted(entries, key=lambda entry: (len(entry.name), entry.code)))

    def __len__(self) -> int:
        return len(self._codes)

    @property
    def nbytes(self) -> int:
        """Bytes held in the substring structures (numpy arrays and joined strings), for benchmarks."""
        return self._text.nbytes + self._pinyin.nbytes + self._initials.nbytes

    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        """Up to `limit` items matching `query`, best first. Blank queries give an empty list."""
        found = self._rank(normalize(query), limit)
        return [
            SearchHit(code=self._codes[item], name=self._names[item], score=score, matched=matched)
            for item, (score, matched) in found.items()
        ]

    def _rank(self, query: str, limit: int) -> dict[int, tuple[int, str]]:
        found: dict[int, tuple[int, str]] = {}
        if not query or limit <= 0 or len(query) > self._max_key_length:
            return found

        def add(items: list[int], score: int, matched: str) -> bool:
            for item in items:
                found.setdefault(item, (score, matched))
            return len(found) >= limit

        def need() -> int:
            return limit - len(found)

        if add(_smallest_new(self._name_text.exact(query), need(), found), SCORE_NAME, "name"):
            return found
        if add(_smallest_new(self._alias_text.exact(query), need(), found), SCORE_ALIAS, "alias"):
            return found
        initials = self._name_initials.exact(query)
        if add(_smallest_new(initials, need(), found), SCORE_NAME_INITIALS, "initials"):
            return found
        prefixed = np.concatenate((self._name_initials.prefixed(query), self._alias_initials.prefixed(query)))
        if add(_smallest_new(prefixed, need(), found), SCORE_INITIALS_PREFIX, "initials"):
            return found
        if add(self._initials.search(query, need(), found), SCORE_INITIALS_SUBSTRING, "initials"):
            return found
        prefixed = np.concatenate((self._name_text.prefixed(query), self._alias_text.prefixed(query)))
        if add(_smallest_new(prefixed, need(), found), SCORE_PREFIX, "prefix"):
            return found
        # Both substring kinds share one score, so their hits are merged by item order, not listed one by one.
        in_text = self._text.search(query, need(), found)
        in_pinyin = self._pinyin.search(query, need(), found)
        tags = dict.fromkeys(in_pinyin, "pinyin") | dict.fromkeys(in_text, "substring")
        for item in sorted(tags)[: need()]:
            found[item] = (SCORE_SUBSTRING, tags[item])
        return found
