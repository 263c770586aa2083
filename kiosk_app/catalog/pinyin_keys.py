"""Search keys for catalogue text: a normal form, the full pinyin and the pinyin initials.

People reach a service item in three ways: agents type Chinese or pinyin, villagers at a kiosk tap pinyin
initials on an on-screen keyboard. All three are compared against keys made here, so the query and the stored
text must go through the very same `normalize` first.

The keys are computed once, when a catalogue is imported, and stored with the item: pypinyin costs about
0.1 ms per name, which is fine for an import but not for starting a kiosk with 100,000 items.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

__all__ = ["normalize", "pinyin_keys"]

# Categories dropped by `normalize`: every separator (Z*), every punctuation mark (P*), controls and
# invisible format characters. People type "社保卡（补办）", "yi liao", "xi'an" or "YL-BX" and mean the same
# thing as without the marks; dropping the whole categories is simpler to reason about than a hand list.
_DROPPED_CATEGORY_PREFIXES = ("Z", "P")
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf"})

# The cache behind `str.translate` is bounded so that a stream of arbitrary (hostile) queries cannot grow it
# without limit; characters beyond the bound are still classified correctly, just not remembered.
_TRANSLATE_CACHE_LIMIT = 1 << 16


class _DropTable(dict[int, int | None]):
    """A `str.translate` table that classifies each code point on first sight and then remembers it."""

    def __missing__(self, codepoint: int) -> int | None:
        category = unicodedata.category(chr(codepoint))
        dropped = category.startswith(_DROPPED_CATEGORY_PREFIXES) or category in _DROPPED_CATEGORIES
        result = None if dropped else codepoint
        if len(self) < _TRANSLATE_CACHE_LIMIT:
            self[codepoint] = result
        return result


_DROP_TABLE = _DropTable()

# Han characters that pypinyin can read. 〇 is included because pypinyin reads it as "ling"; the private-use
# range is where pypinyin keeps a few characters that Unicode encoded late.
_HAN_RUN = re.compile("([\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ue815-\ue864\U00020000-\U0003134f]+)")


def normalize(text: str) -> str:
    """Fold `text` into the form every search key and query is compared in.

    NFKC turns full-width letters, digits and brackets into their ASCII forms (and Ⅳ into "iv"), case is
    folded to lower, and whitespace and punctuation of any script are removed.
    """
    folded = unicodedata.normalize("NFKC", text).lower()
    if folded.isascii():
        return folded.translate(_DROP_TABLE)
    # Lower-casing, and dropping a space between a letter and a combining mark (NFKC turns "¯" into a space
    # and a combining macron), can leave text NFKC would change again; normalising once more keeps
    # normalize(normalize(x)) == normalize(x), so a stored key and the same text typed as a query agree.
    folded = unicodedata.normalize("NFKC", folded).translate(_DROP_TABLE)
    return unicodedata.normalize("NFKC", folded)


def pinyin_keys(text: str) -> tuple[str, str]:
    """Return (full pinyin, initials) of `text`, both lower-case ASCII for Chinese parts.

    The full pinyin has no tones or separators ("银行" -> "yinhang", phrase-aware through pypinyin) and
    writes ü as "v", the way people type it. The initials are the first letter of each syllable. Letters and
    digits that are not Chinese ("ETC", "2024") are kept whole in both keys, because people type them whole.
    Han characters pypinyin cannot read are left out of both keys.
    """
    return _keys_of_normal_form(normalize(text))


@lru_cache(maxsize=8192)
def _keys_of_normal_form(normal: str) -> tuple[str, str]:
    # Cached because aliases ("医保", "社保卡") and name parts repeat across thousands of items in an import.
    full: list[str] = []
    initials: list[str] = []
    for index, run in enumerate(_HAN_RUN.split(normal)):
        if not run:
            continue
        if index % 2 == 1:
            # Han run: converted as a whole so that pypinyin can use its phrase dictionary.
            for syllable in _lazy_pinyin()(run):
                if syllable.isascii() and syllable.isalpha():
                    lowered = syllable.lower()
                    full.append(lowered)
                    initials.append(lowered[0])
        else:
            kept = "".join(ch for ch in run if ch.isalnum())
            full.append(kept)
            initials.append(kept)
    return "".join(full), "".join(initials)


def _lazy_pinyin() -> Callable[[str], list[str]]:
    # pypinyin loads its dictionaries on import (~0.2 s); only catalogue imports need it, not every CLI call.
    from pypinyin import lazy_pinyin

    return lazy_pinyin
