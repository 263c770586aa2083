"""Whatever the network sends (catalogue items, status events) either applies cleanly or is refused in plain
words, and nothing the station already holds changes when it is refused."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from kiosk_app.applications.lifecycle import TRANSITIONS, State
from kiosk_app.catalog.delta import CatalogPageData, apply_catalog_pages
from kiosk_app.catalog.importer import CatalogInvalid
from kiosk_app.station import Station
from kiosk_app.syncing.platform_events import PLATFORM_TO_LOCAL, path_to
from local_db.models import ServiceItem

json_scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=30)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=5), max_leaves=20)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(st.dictionaries(st.sampled_from(["code", "name", "item_type", "materials", "levels", "fee",
                                                       "promised_limit_days", "x"]), json_values, max_size=8),
                      min_size=1, max_size=3),
       removed=st.lists(st.text(max_size=10), max_size=3))
def test_random_catalogue_pages_are_refused_without_touching_the_catalogue(copied_station: Station,
                                                                           items: list[dict[str, Any]],
                                                                           removed: list[str]) -> None:
    def snapshot() -> list[tuple[str, str, bool]]:
        return copied_station.db.read(
            lambda s: sorted((r.code, r.name, r.active) for r in s.scalars(select(ServiceItem))))

    before = snapshot()
    page = CatalogPageData(full=False, version="2027.1", region="测试", items=items, removed=removed)
    try:
        apply_catalog_pages(copied_station.db, [page])
    except CatalogInvalid as exc:
        assert exc.message.startswith("服务事项目录")  # a plain sentence, not a traceback
        assert snapshot() == before
    else:  # only a page of well-formed items may pass (random dicts almost never are)
        assert all(isinstance(i.get("code"), str) for i in items)


@given(start=st.sampled_from(list(State)), reported=st.sampled_from(sorted(PLATFORM_TO_LOCAL)))
def test_every_path_to_a_reported_state_uses_legal_moves_only(start: State, reported: str) -> None:
    target = PLATFORM_TO_LOCAL[reported]
    path = path_to(start, target)
    if path is None:
        return
    current = start
    for step in path:
        assert step in TRANSITIONS[current]
        current = step
    assert current == target
