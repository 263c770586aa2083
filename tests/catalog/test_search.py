"""Catalogue search: the queries people type at a counter or a kiosk find the item they mean.

Ranking is checked against `_oracle`, a brute-force restatement of the rules in `kiosk_app.catalog.search`'s
docstring, so that the index's shortcuts (bisection, n-gram postings, early stops) are tested against plain
string operations rather than against themselves.
"""

from __future__ import annotations

import time
from collections import Counter
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk_app.catalog import search as search_module
from kiosk_app.catalog.consistency import check_document
from kiosk_app.catalog.pinyin_keys import normalize, pinyin_keys
from kiosk_app.catalog.schema import CatalogDocument
from kiosk_app.catalog.search import CatalogSearchIndex, SearchEntry, SearchHit
from kiosk_app.catalog.synthetic import generate_catalog, iter_items, query_mix

REAL_ITEMS: list[tuple[str, str, tuple[str, ...]]] = [
    ("331123-YB-0001", "城乡居民基本医疗保险参保登记", ("医保",)),
    ("331123-MZ-0001", "最低生活保障申请", ("低保",)),
    ("331123-RS-0001", "社会保障卡申领", ("社保卡",)),
    ("331123-RS-0002", "城乡居民基本养老保险参保登记", ()),
    ("331123-YB-0002", "医疗费用零星报销", ()),
    ("331123-MZ-0002", "残疾人两项补贴", ("残疾人生活补贴和护理补贴",)),
    ("331123-MZ-0003", "高龄津贴", ("高龄补贴",)),
    ("331123-ZR-0001", "农村宅基地建房审批", ("农房审批",)),
    ("331123-GA-0001", "居住证申领", ()),
    ("331123-RS-0003", "就业失业登记", ()),
    ("331123-WJ-0001", "生育登记", ()),
    ("331123-MZ-0004", "特困人员救助供养", ("五保",)),
]


def _entries(items: list[tuple[str, str, tuple[str, ...]]]) -> list[SearchEntry]:
    return [SearchEntry.from_text(code, name, aliases) for code, name, aliases in items]


def _oracle(entries: list[SearchEntry], query: str, limit: int = 20) -> list[tuple[str, int]]:
    """(code, score) of the expected hits, by brute force over every key of every entry."""
    q = normalize(query)
    if not q or limit <= 0:
        return []
    scored: list[tuple[int, int, str]] = []
    for entry in entries:
        score = _rule_score(entry, q)
        if score is not None:
            scored.append((-score, len(entry.name), entry.code))
    scored.sort()
    return [(code, -negative) for negative, _, code in scored[:limit]]


@cache
def _normal_forms(entry: SearchEntry) -> tuple[str, list[str]]:
    return normalize(entry.name), [normalize(alias) for alias in entry.aliases]


def _rule_score(entry: SearchEntry, q: str) -> int | None:
    name, aliases = _normal_forms(entry)
    initials = [entry.name_initials, *entry.alias_initials]
    texts = [name, *aliases, entry.name_pinyin, *entry.alias_pinyin]
    if q in (name, entry.name_pinyin):
        return 100
    if q in aliases or q in entry.alias_pinyin or q in entry.alias_initials:
        return 90
    if q == entry.name_initials:
        return 85
    if any(key.startswith(q) for key in initials):
        return 80
    if any(q in key for key in initials):
        return 75
    if any(key.startswith(q) for key in texts):
        return 70
    if any(q in key for key in texts):
        return 60
    return None


def _pairs(hits: list[SearchHit]) -> list[tuple[str, int]]:
    return [(hit.code, hit.score) for hit in hits]


@pytest.fixture(scope="module")
def real() -> CatalogSearchIndex:
    return CatalogSearchIndex.build(_entries(REAL_ITEMS))


@pytest.fixture(scope="module")
def synthetic_entries() -> list[SearchEntry]:
    return [
        SearchEntry.from_text(item["code"], item["name"], item["aliases"])
        for item in iter_items(2000, seed=11)
    ]


@pytest.fixture(scope="module")
def synthetic(synthetic_entries: list[SearchEntry]) -> CatalogSearchIndex:
    return CatalogSearchIndex.build(synthetic_entries)


# ---- keys ----


def test_pinyin_keys() -> None:
    assert pinyin_keys("银行") == ("yinhang", "yh")  # phrase-aware: 行 is hang here, not xing
    assert pinyin_keys("绿色女性") == ("lvsenvxing", "lsnx")  # ü typed as v
    assert pinyin_keys("社会保障卡") == ("shehuibaozhangka", "shbzk")
    assert pinyin_keys("ETC办理2024年") == ("etcbanli2024nian", "etcbl2024n")
    assert pinyin_keys("（Ａ）·残疾人") == ("acanjiren", "acjr")
    assert pinyin_keys("") == ("", "")


def test_normalize() -> None:
    assert normalize(" YL BX ") == "ylbx"
    assert normalize("ＤＩＢＡＯ") == "dibao"
    assert normalize("城乡居民·基本医疗保险（参保）、登记-1_2,3") == "城乡居民基本医疗保险参保登记123"
    assert normalize("\t医\u3000疗\n\u200b") == "医疗"
    assert normalize("网办Ⅳ级") == "网办iv级"


# ---- the queries from the brief ----


def test_initials_of_medical_insurance(real: CatalogSearchIndex) -> None:
    hits = real.search("ylbx")
    # Genuinely ambiguous: 医疗保险 and 养老保险 share the initials ylbx, and both names are 14 characters
    # long, so the code decides (RS-0002 before YB-0001). Both must be offered.
    assert [hit.name for hit in hits] == ["城乡居民基本养老保险参保登记", "城乡居民基本医疗保险参保登记"]
    assert {(hit.score, hit.matched) for hit in hits} == {(75, "initials")}
    assert _pairs(real.search("YL BX")) == _pairs(hits)
    assert real.search("ylfy")[0].name == "医疗费用零星报销"  # unambiguous initials prefix


def test_full_pinyin_fragment(real: CatalogSearchIndex) -> None:
    hits = real.search("yiliao")
    assert [(hit.name, hit.matched) for hit in hits] == [
        ("医疗费用零星报销", "prefix"),
        ("城乡居民基本医疗保险参保登记", "pinyin"),
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("dibao", "最低生活保障申请"),
        ("低保", "最低生活保障申请"),
        ("ＤＩＢＡＯ", "最低生活保障申请"),
        ("sbk", "社会保障卡申领"),
        ("社保卡", "社会保障卡申领"),
        ("yibao", "城乡居民基本医疗保险参保登记"),
        ("wubao", "特困人员救助供养"),
        ("nfsp", "农村宅基地建房审批"),
    ],
)
def test_alias_queries_rank_first(real: CatalogSearchIndex, query: str, expected: str) -> None:
    top = real.search(query)[0]
    assert (top.name, top.score, top.matched) == (expected, 90, "alias")


def test_chinese_substring_with_spaces(real: CatalogSearchIndex) -> None:
    hits = real.search(" 医 疗 ")
    assert [hit.name for hit in hits] == ["医疗费用零星报销", "城乡居民基本医疗保险参保登记"]
    assert hits[1].matched == "substring"


def test_exact_name_and_its_pinyin(real: CatalogSearchIndex) -> None:
    for query in ("高龄津贴", "gaolingjintie", "GAO LING JIN TIE"):
        top = real.search(query)[0]
        assert (top.name, top.score, top.matched) == ("高龄津贴", 100, "name")
    assert real.search("gljt")[0].score == 85


# ---- ranking between tiers ----


def test_every_tier_competes_for_one_query() -> None:
    # Each name is built to meet exactly one rule for "an" as its best; names and codes are chosen so that
    # the static order alone (shorter name first) would put them in a different order.
    items: list[tuple[str, str, tuple[str, ...]]] = [
        ("G-substring", "办理补贴", ()),  # ban-li-bu-tie: "an" only inside the full pinyin
        ("F-prefix", "安全生产许可", ()),  # anquan...: pinyin starts with "an", initials aqscxk do not
        ("E-initials-substring", "治安农村联防登记", ()),  # initials zanclfdj contain "an"
        ("D-initials-prefix", "安宁疗护服务", ()),  # initials anlhfw start with "an"
        ("C-name-initials", "安宁", ()),  # initials exactly "an"
        ("B-alias", "海岸线使用审批", ("岸",)),  # alias pinyin "an"
        ("A-name", "安", ()),  # name pinyin "an"
        ("Z-miss", "医疗费用零星报销", ()),
    ]
    index = CatalogSearchIndex.build(_entries(items))
    hits = index.search("an")
    assert [(hit.code, hit.score, hit.matched) for hit in hits] == [
        ("A-name", 100, "name"),
        ("B-alias", 90, "alias"),
        ("C-name-initials", 85, "initials"),
        ("D-initials-prefix", 80, "initials"),
        ("E-initials-substring", 75, "initials"),
        ("F-prefix", 70, "prefix"),
        ("G-substring", 60, "pinyin"),
    ]
    assert _pairs(hits) == _oracle(_entries(items), "an")


def test_chinese_query_tiers_and_static_order() -> None:
    items: list[tuple[str, str, tuple[str, ...]]] = [
        ("4", "城乡低保申请", ()),
        ("3", "低保金发放", ()),
        ("2", "最低生活保障申请", ("低保",)),
        ("1", "低保", ()),
        ("0", "农村低保申请", ()),  # same length as 城乡低保申请: the code breaks the tie
    ]
    hits = CatalogSearchIndex.build(_entries(items)).search("低保")
    assert [(hit.code, hit.score) for hit in hits] == [("1", 100), ("2", 90), ("3", 70), ("0", 60), ("4", 60)]


def test_limit_is_honoured(real: CatalogSearchIndex) -> None:
    assert len(real.search("c", limit=3)) == 3
    assert _pairs(real.search("c", limit=3)) == _oracle(_entries(REAL_ITEMS), "c", limit=3)
    assert len(real.search("登记", limit=1)) == 1
    assert real.search("登记", limit=0) == []
    assert len(real.search("d", limit=1000)) == len(_oracle(_entries(REAL_ITEMS), "d", limit=1000))


@pytest.mark.parametrize("query", ["", " ", "\t\n\u3000", "·-_（）、,", "\x00\u200b"])
def test_blank_query_gives_nothing(real: CatalogSearchIndex, query: str) -> None:
    assert real.search(query) == []


@pytest.mark.parametrize(
    "query", ["🙂", "医疗🙂", "\ud800", "x" * 10_000, "医" * 10_000, "ylbx" * 2_500, "\ufdfa" * 500, "a\nb"]
)
def test_odd_queries_do_not_crash_or_hang(real: CatalogSearchIndex, query: str) -> None:
    started = time.perf_counter()
    hits = real.search(query)
    assert time.perf_counter() - started < 1.0
    assert _pairs(hits) == _oracle(_entries(REAL_ITEMS), query)


def test_empty_index() -> None:
    index = CatalogSearchIndex.build([])
    assert len(index) == 0
    assert index.search("医疗") == []


def test_entries_are_checked() -> None:
    with pytest.raises(ValueError):
        SearchEntry("c", "名称", ("别名",), "mingcheng", "mc", (), ())
    entry = SearchEntry.from_text("same", "医疗")
    with pytest.raises(ValueError):
        CatalogSearchIndex.build([entry, SearchEntry.from_text("same", "养老")])


# ---- properties ----

_ALPHABET = "医疗保险低社卡安岸银行长乐老养登记abyl1 ·（）Ｂ"
_QUERY_ALPHABET = _ALPHABET + "yilaoxdshkngbc"


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_search_never_raises(real: CatalogSearchIndex, query: str) -> None:
    hits = real.search(query)
    assert _pairs(hits) == _oracle(_entries(REAL_ITEMS), query)


@st.composite
def _catalogue_and_query(draw: st.DrawFn) -> tuple[list[SearchEntry], str]:
    names = draw(st.lists(st.text(_ALPHABET, min_size=1, max_size=8), min_size=1, max_size=25))
    entries = []
    for number, name in enumerate(names):
        aliases = draw(st.lists(st.text(_ALPHABET, min_size=1, max_size=4), max_size=2, unique=True))
        entries.append(SearchEntry.from_text(f"C{number:03d}", name, aliases))
    keys = [
        key for e in entries for key in (e.name, e.name_pinyin, e.name_initials, *e.aliases, *e.alias_pinyin)
    ]
    from_keys = st.sampled_from(keys).flatmap(
        lambda key: st.tuples(st.integers(0, len(key)), st.integers(0, len(key))).map(
            lambda span: key[min(span) : max(span)]
        )
    )
    query = draw(st.one_of(from_keys, st.text(_QUERY_ALPHABET, max_size=6)))
    return entries, query


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_catalogue_and_query(), st.integers(1, 30))
def test_index_agrees_with_brute_force(case: tuple[list[SearchEntry], str], limit: int) -> None:
    entries, query = case
    index = CatalogSearchIndex.build(entries)
    hits = index.search(query, limit=limit)
    assert _pairs(hits) == _oracle(entries, query, limit)
    # Every hit must really match: its score is the best rule its own keys meet.
    by_code = {entry.code: entry for entry in entries}
    for hit in hits:
        assert _rule_score(by_code[hit.code], normalize(query)) == hit.score


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_own_name_first_and_initials_found(
    synthetic: CatalogSearchIndex, synthetic_entries: list[SearchEntry], data: st.DataObject
) -> None:
    entry = data.draw(st.sampled_from(synthetic_entries))
    top = synthetic.search(entry.name)[0]
    assert (top.code, top.score) == (entry.code, 100)
    assert entry.code in [hit.code for hit in synthetic.search(entry.name_initials, limit=100)]


# ---- synthetic catalogue ----


def test_synthetic_catalogue_is_valid_and_searchable(synthetic_entries: list[SearchEntry]) -> None:
    raw = generate_catalog(2000, seed=11)
    doc = CatalogDocument.model_validate(raw)
    assert (doc.format, doc.format_version, len(doc.items)) == ("kiosk-catalog", 1, 2000)
    assert check_document(doc) == []
    assert len({item.code for item in doc.items}) == 2000
    assert max(Counter(item.name for item in doc.items).values()) == 1
    for item in doc.items:
        assert 1 <= len(item.materials) <= 6 and 1 <= len(item.form_fields) <= 8, item.code
        assert (item.case_type == "即办件") == (item.review_type == "即审即办"), item.code
        assert item.visits == 0 or item.visit_reason, item.code
        assert item.visits != 0 or item.online or "快递送达" in item.delivery, item.code
        assert item.online_depth != "Ⅳ" or item.visits == 0, item.code
        assert item.fee.charged or not item.fee.online_payment, item.code
        if item.item_type == "行政许可":
            assert sum(step.days for step in item.process_steps) <= item.promised_limit_days, item.code
        assert item.statutory_limit_days == 0 or item.promised_limit_days <= item.statutory_limit_days
    assert generate_catalog(40, seed=3) == generate_catalog(40, seed=3)
    assert generate_catalog(40, seed=3) != generate_catalog(40, seed=4)
    assert [item["name"] for item in raw["items"]] == [entry.name for entry in synthetic_entries]


def test_synthetic_queries_agree_with_brute_force(
    synthetic: CatalogSearchIndex, synthetic_entries: list[SearchEntry]
) -> None:
    queries = query_mix(synthetic_entries, 150, seed=2)
    assert query_mix(synthetic_entries, 150, seed=2) == queries
    answered = 0
    for query in queries:
        hits = synthetic.search(query)
        assert _pairs(hits) == _oracle(synthetic_entries, query), query
        answered += bool(hits)
    assert answered >= 0.8 * len(queries)
    names = [entry.name for entry in synthetic_entries]
    assert sum(bool(synthetic.search(q)) for q in query_mix(names, 50, seed=9)) >= 40


def test_query_mix_is_varied(synthetic_entries: list[SearchEntry]) -> None:
    queries = query_mix(synthetic_entries, 400, seed=1)
    assert any(q.isascii() for q in queries) and any(not q.isascii() for q in queries)
    assert len(set(queries)) > 200


@pytest.mark.parametrize("budget", [0, 3])
def test_fallback_paths_agree_with_brute_force(
    monkeypatch: pytest.MonkeyPatch, synthetic_entries: list[SearchEntry], budget: int
) -> None:
    # The tiny windows, the verification budget and the numpy path for small id ranges only come into play
    # on huge catalogues; shrinking the thresholds runs them on this one.
    monkeypatch.setattr(search_module, "_FIRST_WINDOW", 2)
    monkeypatch.setattr(search_module, "_MAX_WINDOW", 8)
    monkeypatch.setattr(search_module, "_VERIFY_BUDGET", budget)
    monkeypatch.setattr(search_module, "_SMALL_RANGE", 0)
    monkeypatch.setattr(search_module, "_BUILD_CHUNK", 1000)
    index = CatalogSearchIndex.build(synthetic_entries)
    for query in [*query_mix(synthetic_entries, 100, seed=4), "zhangzhang", "an", "ng", "l", "补贴"]:
        for limit in (1, 20):
            assert _pairs(index.search(query, limit)) == _oracle(synthetic_entries, query, limit), query
