"""The capture and incident models: Qt's model rules, lazy thumbnails, sorting, filtering.

Most tests build ``Capture`` objects directly; one feeds the model from a real vault.
"""

from __future__ import annotations

import hashlib
import io
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import Image
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QListView, QTableView

from evidence_recorder.core.errors import NotFound
from evidence_recorder.core.gather.images import make_thumbnail
from evidence_recorder.core.model import (
    Capture,
    CaptureDetails,
    CaptureKind,
    Incident,
    iso_utc,
    utc_now,
)
from evidence_recorder.core.vault.store import Vault
from evidence_recorder.ui.delegates import configure_grid_view, configure_table_view
from evidence_recorder.ui.models import (
    CAPTION_ROLE,
    CAPTURE_ID_ROLE,
    INCIDENT_ID_ROLE,
    SORT_ROLE,
    CaptureFilterProxy,
    CaptureTableModel,
    Column,
    IncidentListModel,
)

pytestmark = pytest.mark.usefixtures("qapp")  # pixmaps need the one QApplication

DECORATION = Qt.ItemDataRole.DecorationRole
BASE = datetime(2026, 11, 25, 14, 2, 31, 123000, tzinfo=UTC)


def jpeg(size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG")
    return buf.getvalue()


JPEG = jpeg()


def capture(capture_id: int, when: datetime = BASE, *, tz_name: str = "Europe/London",
            utc_offset: str = "+00:00", kind: CaptureKind = CaptureKind.SCREEN,
            incident_id: int = 1, **details: str) -> Capture:
    return Capture(
        id=capture_id, incident_id=incident_id, kind=kind, captured_at=when, tz_name=tz_name,
        utc_offset=utc_offset, sha256="0" * 64, width=64, height=48, media_type="image/png",
        byte_size=100, environment={}, source=None, details=CaptureDetails(**details),
    )


def many(count: int) -> list[Capture]:
    return [capture(i + 1, BASE - timedelta(minutes=i), site="Facebook", author=f"Person {i}",
                    description=f"Post number {i}") for i in range(count)]


class CountingLoader:
    """A thumbnail loader that records every id it is asked for (from worker threads)."""

    def __init__(self, data: bytes = JPEG) -> None:
        self.data = data
        self.calls: list[int] = []
        self._lock = threading.Lock()

    def __call__(self, capture_id: int) -> bytes:
        with self._lock:
            self.calls.append(capture_id)
        return self.data


def settle(qtbot, model: CaptureTableModel, rounds: int = 200) -> None:  # type: ignore[no-untyped-def]
    """Let queued thumbnail requests run and their results arrive."""
    for _ in range(rounds):
        qtbot.wait(5)
        model.wait_for_thumbnails(5_000)
        qtbot.wait(5)
        if model.thumbnails_pending() == 0:
            return
    raise AssertionError("thumbnail loading did not settle")


def visible_rows(view: QTableView) -> set[int]:
    first = view.rowAt(0)
    last = view.rowAt(view.viewport().height() - 1)
    if last < 0:
        last = view.model().rowCount() - 1
    return set(range(first, last + 1))


@pytest.fixture
def table(qtbot) -> Iterator[Callable[..., QTableView]]:  # type: ignore[no-untyped-def]
    def make(model: CaptureTableModel | CaptureFilterProxy, rows: int = 20) -> QTableView:
        view = QTableView()
        qtbot.addWidget(view)
        view.setModel(model)
        configure_table_view(view)
        height = (view.horizontalHeader().sizeHint().height()
                  + rows * view.verticalHeader().defaultSectionSize() + 2 * view.frameWidth())
        view.resize(900, height)
        view.show()
        qtbot.waitExposed(view)
        return view

    yield make


# ------------------------------------------------------------------ Qt's model rules


def test_capture_model_passes_the_model_tester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = CaptureTableModel(thumbnail_loader=CountingLoader())
    qtmodeltester.check(model)
    model.set_captures([capture(1, site="Facebook", author="A", handle="a",
                                description="x\ny", category="threat"),
                        capture(2, BASE - timedelta(days=400), kind=CaptureKind.IMPORT),
                        capture(3, tz_name="", utc_offset="-05:00", posted_at="2h")])
    qtmodeltester.check(model)
    model.wait_for_thumbnails()


def test_filter_proxy_passes_the_model_tester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = CaptureTableModel()
    model.set_captures(many(30))
    proxy = CaptureFilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(Column.CAPTURED, Qt.SortOrder.AscendingOrder)
    proxy.set_filter_text("person 1")
    qtmodeltester.check(proxy)
    # Every word must appear somewhere: "person" always does, "1" in 1, 10-19 and 21.
    assert proxy.rowCount() == sum("1" in str(i) for i in range(30))


def test_incident_model_passes_the_model_tester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = IncidentListModel()
    qtmodeltester.check(model)
    model.set_incidents([Incident(1, "Unsorted captures", "", "", BASE, True, 3),
                         Incident(2, "Facebook group", "Started in Nov", "", BASE, False, 1)])
    qtmodeltester.check(model)


# ------------------------------------------------------------------ what the table shows


def test_columns_show_the_capture_in_local_time_with_utc_in_the_tooltip() -> None:
    model = CaptureTableModel()
    summer = datetime(2026, 7, 1, 12, 0, 5, tzinfo=UTC)
    model.set_captures([
        capture(1, summer, site="Instagram", author="Sam Jones", handle="samj",
                posted_at="Yesterday at 21:04", category="threat", kind=CaptureKind.REGION,
                description="First line\nsecond line " + "long " * 100),
        capture(2, BASE, tz_name="", utc_offset="+05:30"),
    ])
    row = [model.index(0, c).data() for c in range(model.columnCount())]
    assert row[:6] == ["1 Jul 2026 13:00", "Yesterday at 21:04", "Instagram",
                       "Sam Jones (@samj)", "Threat", "Part of the screen"]
    assert row[6].startswith("First line second line long")
    assert row[6].endswith("…") and len(row[6]) <= 120
    tooltip = model.index(0, Column.CAPTURED).data(Qt.ItemDataRole.ToolTipRole)
    assert tooltip == ("Captured 1 Jul 2026 at 13:00:05 (Europe/London)\n"
                       "1 Jul 2026 at 12:00:05 UTC")
    # Only an offset stored: the time is still the user's local time.
    assert model.index(1, Column.CAPTURED).data() == "25 Nov 2026 19:32"
    assert "(UTC+05:30)" in model.index(1, Column.CAPTURED).data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(0, 0).data(CAPTURE_ID_ROLE) == 1
    assert model.index(0, 0).data(CAPTION_ROLE) == "Instagram · 1 Jul 13:00"
    assert model.index(1, 0).data(CAPTION_ROLE) == "Unknown site · 25 Nov 19:32"
    assert model.headerData(Column.POSTED, Qt.Orientation.Horizontal) == "Posted (as shown)"
    assert model.capture_at(1).id == 2
    assert model.row_of(2) == 1
    assert model.row_of(99) is None


def test_update_add_and_remove_keep_rows_and_ids_in_step(qtbot) -> None:  # type: ignore[no-untyped-def]
    model = CaptureTableModel()
    model.set_captures(many(3))
    edited = capture(2, BASE - timedelta(minutes=1), site="TikTok", author="Changed")
    with qtbot.waitSignal(model.dataChanged):
        model.update_capture(edited)
    assert model.index(model.row_of(2), Column.SITE).data() == "TikTok"
    model.add_capture(capture(10, BASE + timedelta(days=1), site="WhatsApp"))
    assert model.rowCount() == 4
    assert model.capture_at(model.row_of(10)).details.site == "WhatsApp"
    model.remove_capture(1)
    assert model.rowCount() == 3
    assert model.row_of(1) is None
    assert {model.capture_at(r).id for r in range(3)} == {2, 3, 10}
    assert all(model.row_of(model.capture_at(r).id) == r for r in range(3))


# ------------------------------------------------------------------ sorting


def test_sorting_by_capture_time_is_chronological_not_alphabetical() -> None:
    model = CaptureTableModel()
    proxy = CaptureFilterProxy()
    proxy.setSourceModel(model)
    jan = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
    april = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)
    # 23:30 on 1 April in New York is already 2 April in UTC, after 02:00 UTC.
    new_york = datetime(2026, 4, 2, 3, 30, tzinfo=UTC)
    london_early = datetime(2026, 4, 2, 2, 0, tzinfo=UTC)
    model.set_captures([
        capture(1, april),
        capture(2, new_york, tz_name="America/New_York", utc_offset="-04:00"),
        capture(3, jan),
        capture(4, london_early),
    ])
    proxy.sort(Column.CAPTURED, Qt.SortOrder.AscendingOrder)
    order = [proxy.capture_at(r).id for r in range(proxy.rowCount())]
    assert order == [3, 4, 2, 1]
    assert [proxy.index(r, 0).data(SORT_ROLE) for r in range(4)] == [
        iso_utc(jan), iso_utc(london_early), iso_utc(new_york), iso_utc(april)]
    proxy.sort(Column.CAPTURED, Qt.SortOrder.DescendingOrder)
    assert [proxy.capture_at(r).id for r in range(4)] == [1, 2, 4, 3]


def test_sorting_other_columns_breaks_ties_by_time_and_keeps_persistent_indexes() -> None:
    model = CaptureTableModel()
    proxy = CaptureFilterProxy()
    proxy.setSourceModel(model)
    model.set_captures([
        capture(1, BASE, site="facebook"),
        capture(2, BASE - timedelta(hours=1), site="Instagram"),
        capture(3, BASE - timedelta(hours=2), site="Facebook"),
    ])
    held = QPersistentModelIndex(model.index(model.row_of(2), Column.SITE))
    proxy.sort(Column.CAPTURED, Qt.SortOrder.AscendingOrder)
    selected = QPersistentModelIndex(proxy.index(0, 0))  # as a view's selection holds it
    assert proxy.capture_at(selected.row()).id == 3
    proxy.sort(Column.SITE, Qt.SortOrder.AscendingOrder)
    assert [proxy.capture_at(r).id for r in range(3)] == [3, 1, 2]  # case-insensitive
    assert held.isValid()
    assert model.capture_at(held.row()).id == 2
    proxy.sort(Column.SITE, Qt.SortOrder.DescendingOrder)
    assert selected.isValid()
    assert proxy.capture_at(selected.row()).id == 3
    proxy.sort(Column.SITE, Qt.SortOrder.AscendingOrder)
    assert model.sort_state() == (Column.SITE, Qt.SortOrder.AscendingOrder)
    # The order holds when the captures are reloaded and when one is edited.
    model.set_captures(list(reversed([model.capture_at(r) for r in range(3)])))
    assert [model.capture_at(r).id for r in range(3)] == [3, 1, 2]
    model.update_capture(capture(2, BASE - timedelta(hours=1), site="Email"))
    assert [model.capture_at(r).id for r in range(3)] == [2, 3, 1]


def test_ten_thousand_rows_sort_and_filter_quickly() -> None:
    model = CaptureTableModel()
    proxy = CaptureFilterProxy()
    proxy.setSourceModel(model)
    started = time.perf_counter()
    model.set_captures(many(10_000))
    proxy.sort(Column.CAPTURED, Qt.SortOrder.AscendingOrder)
    proxy.sort(Column.AUTHOR, Qt.SortOrder.DescendingOrder)
    proxy.set_filter_text("person 99")
    assert proxy.rowCount() == sum("99" in str(i) for i in range(10_000))
    assert time.perf_counter() - started < 5  # a few hundred ms here; generous for slow CI


# ------------------------------------------------------------------ filtering


def test_filter_by_text_site_and_date() -> None:
    model = CaptureTableModel()
    proxy = CaptureFilterProxy()
    proxy.setSourceModel(model)
    model.set_captures([
        capture(1, datetime(2026, 11, 1, 10, tzinfo=UTC), site="Facebook", author="Sam Jones",
                handle="@samj", description="Called me a liar"),
        capture(2, datetime(2026, 11, 3, 23, 30, tzinfo=UTC), site="Instagram",
                url="https://instagram.com/p/XYZ", context="After parents' evening",
                people="Mrs Patel"),
        # 23:30 UTC on 3 Nov is 4 Nov in Berlin: date filters use the user's own day.
        capture(3, datetime(2026, 11, 3, 23, 30, tzinfo=UTC), tz_name="Europe/Berlin",
                utc_offset="+01:00", site="Facebook", author="Anon", description="LIAR again"),
    ])

    def shown() -> list[int]:
        return sorted(proxy.capture_at(r).id for r in range(proxy.rowCount()))

    proxy.set_filter_text("liar")
    assert shown() == [1, 3]
    proxy.set_filter_text("  SAMJ   liar ")  # every word, any case, any field
    assert shown() == [1]
    proxy.set_filter_text("patel")
    assert shown() == [2]
    proxy.set_filter_text("parents' evening")
    assert shown() == [2]
    proxy.set_filter_text("instagram.com/p/xyz")
    assert shown() == [2]
    proxy.set_filter_text("")
    proxy.set_site_filter("facebook")
    assert shown() == [1, 3]
    proxy.set_site_filter(None)
    proxy.set_date_range(date(2026, 11, 3), date(2026, 11, 3))
    assert shown() == [2]
    proxy.set_date_range(date(2026, 11, 4), None)
    assert shown() == [3]
    proxy.set_date_range(None, datetime(2026, 11, 3, 23, 30, tzinfo=UTC))  # end excluded
    assert shown() == [1]
    proxy.set_date_range(datetime(2026, 11, 3, 23, 30, tzinfo=UTC), None)
    assert shown() == [2, 3]
    with pytest.raises(ValueError, match="aware"):
        proxy.set_date_range(datetime(2026, 11, 3), None)  # naive: refused
    proxy.set_site_filter("Facebook")
    proxy.set_filter_text("anon")
    assert shown() == [3]
    proxy.clear_filters()
    assert shown() == [1, 2, 3]


# ------------------------------------------------------------------ thumbnails


def test_thumbnails_load_only_for_visible_rows_of_ten_thousand(qtbot, table) -> None:  # type: ignore[no-untyped-def]
    loader = CountingLoader()
    model = CaptureTableModel(thumbnail_loader=loader)
    model.set_captures(many(10_000))
    proxy = CaptureFilterProxy()
    proxy.setSourceModel(model)
    assert model.loads_started == 0  # nothing decrypted just for loading the list
    view = table(proxy, rows=20)
    settle(qtbot, model)
    assert 10 <= len(loader.calls) <= 40
    assert len(set(loader.calls)) == len(loader.calls)  # each asked for once
    on_screen = {proxy.capture_at(r).id for r in visible_rows(view)}
    assert set(loader.calls) <= on_screen
    icon = proxy.index(view.rowAt(0), 0).data(DECORATION)
    assert isinstance(icon, QIcon)
    assert not icon.isNull()

    # Scrolling half way loads what comes into view, not what was scrolled past.
    before = len(loader.calls)
    view.scrollTo(proxy.index(5_000, 0), QTableView.ScrollHint.PositionAtTop)
    settle(qtbot, model)
    new = set(loader.calls[before:])
    assert 10 <= len(new) <= 40
    assert new <= {proxy.capture_at(r).id for r in visible_rows(view)}


def test_grid_view_loads_only_what_it_shows(qtbot) -> None:  # type: ignore[no-untyped-def]
    loader = CountingLoader()
    model = CaptureTableModel(thumbnail_loader=loader)
    model.set_captures(many(10_000))
    grid = QListView()
    qtbot.addWidget(grid)
    delegate = configure_grid_view(grid)
    grid.setModel(model)
    grid.resize(800, 500)
    grid.show()
    qtbot.waitExposed(grid)
    settle(qtbot, model)
    assert grid.iconSize() == delegate.icon_size() == QSize(160, 120)
    # 800x500 holds about four rows of four cards.
    assert 8 <= len(loader.calls) <= 40
    shown = {model.capture_at(grid.indexAt(grid.viewport().rect().center()).row()).id}
    assert shown <= set(loader.calls)
    assert max(loader.calls) <= 40  # ids 1.. are the first rows; nothing further down


def test_cache_keeps_at_most_max_cached_pixmaps(qtbot) -> None:  # type: ignore[no-untyped-def]
    loader = CountingLoader()
    model = CaptureTableModel(thumbnail_loader=loader, max_cached=5)
    model.set_captures(many(30))
    for row in range(30):
        model.index(row, 0).data(DECORATION)
        settle(qtbot, model)
        assert model.cached_thumbnail_count() <= 5
    assert len(loader.calls) == 30
    # The most recently loaded are the ones kept: asking again costs nothing.
    model.index(29, 0).data(DECORATION)
    settle(qtbot, model)
    assert len(loader.calls) == 30
    # One evicted long ago is loaded again when it is drawn again.
    model.index(0, 0).data(DECORATION)
    settle(qtbot, model)
    assert len(loader.calls) == 31


def test_reloading_the_same_captures_keeps_their_thumbnails(qtbot) -> None:  # type: ignore[no-untyped-def]
    loader = CountingLoader()
    model = CaptureTableModel(thumbnail_loader=loader)
    model.set_captures(many(3))
    for row in range(3):
        model.index(row, 0).data(DECORATION)
    settle(qtbot, model)
    assert len(loader.calls) == 3
    model.set_captures(many(2))  # after an edit, or another incident chosen
    assert model.cached_thumbnail_count() == 2
    for row in range(2):
        model.index(row, 0).data(DECORATION)
    settle(qtbot, model)
    assert len(loader.calls) == 3
    model.set_thumbnail_loader(loader)  # another source: nothing kept
    assert model.cached_thumbnail_count() == 0


def test_big_thumbnails_are_scaled_into_the_box(qtbot) -> None:  # type: ignore[no-untyped-def]
    model = CaptureTableModel(thumbnail_loader=CountingLoader(jpeg((640, 480))),
                              thumbnail_box=QSize(200, 200))
    model.set_captures(many(1))
    model.index(0, 0).data(DECORATION)
    settle(qtbot, model)
    icon = model.index(0, 0).data(DECORATION)
    assert icon.availableSizes() == [QSize(200, 150)]


def test_a_thumbnail_that_cannot_be_read_is_shown_as_unavailable_once(qtbot) -> None:  # type: ignore[no-untyped-def]
    calls: list[int] = []

    def loader(capture_id: int) -> bytes:
        calls.append(capture_id)
        if capture_id == 1:
            raise NotFound("There is no capture 1 in this vault.")
        return b"not an image"

    model = CaptureTableModel(thumbnail_loader=loader)
    model.set_captures(many(2))
    for _ in range(3):
        for row in range(2):
            assert isinstance(model.index(row, 0).data(DECORATION), QIcon)
        settle(qtbot, model)
    assert sorted(calls) == [1, 2]  # not retried on every paint
    assert model.cached_thumbnail_count() == 0


def test_a_bug_in_the_loader_reaches_the_crash_handler_and_loading_goes_on(qtbot) -> None:  # type: ignore[no-untyped-def]
    def loader(capture_id: int) -> bytes:
        if capture_id <= 3:
            raise KeyError(capture_id)
        return JPEG

    model = CaptureTableModel(thumbnail_loader=loader, max_in_flight=2)
    model.set_captures(many(6))
    with qtbot.captureExceptions() as exceptions:
        for row in range(6):
            model.index(row, 0).data(DECORATION)
        settle(qtbot, model)
        for row in range(6):
            model.index(row, 0).data(DECORATION)
        settle(qtbot, model)
    assert sorted(type(e[1]).__name__ for e in exceptions) == ["KeyError"] * 3
    assert model.cached_thumbnail_count() == 3


def test_clear_forgets_everything_and_drops_thumbnails_that_arrive_later(qtbot) -> None:  # type: ignore[no-untyped-def]
    started = threading.Event()
    release = threading.Event()

    def slow_loader(capture_id: int) -> bytes:
        started.set()
        release.wait(10)
        return JPEG

    model = CaptureTableModel(thumbnail_loader=slow_loader)
    model.set_captures(many(5))
    proxy = CaptureFilterProxy()
    proxy.setSourceModel(model)
    proxy.set_filter_text("post")
    model.index(0, 0).data(DECORATION)
    model.index(1, 0).data(DECORATION)
    qtbot.waitUntil(started.is_set)
    changes: list[QModelIndex] = []
    model.dataChanged.connect(lambda first, _last, _roles: changes.append(first))

    model.clear()  # the vault locked while thumbnails were being decrypted
    release.set()
    model.wait_for_thumbnails()
    qtbot.wait(50)
    assert model.rowCount() == 0
    assert proxy.rowCount() == 0
    assert model.cached_thumbnail_count() == 0
    assert model.thumbnails_pending() == 0
    assert model.captures() == []
    assert changes == []
    # Same ids again (unlocked again): the late images were not kept for them.
    model.set_captures(many(5))
    assert model.cached_thumbnail_count() == 0


# ------------------------------------------------------------------ a real vault


def _add(vault: Vault, when: datetime, colour: tuple[int, int, int], **details: str) -> int:
    buf = io.BytesIO()
    Image.new("RGB", (300, 200), colour).save(buf, "PNG")
    data = buf.getvalue()
    return vault.add_capture(
        original=data, sha256=hashlib.sha256(data).hexdigest(), kind=CaptureKind.REGION,
        width=300, height=200, media_type="image/png", captured_at=iso_utc(when),
        tz_name="Europe/London", utc_offset="+00:00", environment={"os_user": "test"},
        thumbnail=make_thumbnail(data), details=CaptureDetails(**details),
    )


def test_captures_and_thumbnails_from_a_real_vault(vault: Vault, qtbot, table) -> None:  # type: ignore[no-untyped-def]
    now = utc_now()
    first = _add(vault, now - timedelta(days=2), (200, 0, 0), site="Facebook", author="Sam")
    second = _add(vault, now - timedelta(days=1), (0, 0, 200), site="X/Twitter",
                  description="Threatening reply")
    third = _add(vault, now, (0, 160, 0), site="WhatsApp", people="Mrs Patel")

    model = CaptureTableModel()
    model.set_captures(vault.captures())
    model.set_thumbnail_loader(vault.thumbnail)
    proxy = CaptureFilterProxy()
    proxy.setSourceModel(model)
    view = table(proxy, rows=5)
    settle(qtbot, model)
    assert model.cached_thumbnail_count() == 3
    # configure_table_view shows the newest first.
    assert [proxy.capture_at(r).id for r in range(3)] == [third, second, first]
    icon = proxy.index(0, 0).data(DECORATION)
    assert icon.availableSizes() == [QSize(240, 160)]  # 320x213 thumbnail, into the box
    proxy.set_filter_text("threatening")
    assert [proxy.capture_at(r).id for r in range(proxy.rowCount())] == [second]
    assert view.model().rowCount() == 1

    # The vault locks: the model forgets, and a loader reading a locked vault is harmless.
    vault.close()
    model.clear()
    assert proxy.rowCount() == 0
    assert model.cached_thumbnail_count() == 0
    model.set_captures([capture(first)])
    model.index(0, 0).data(DECORATION)
    settle(qtbot, model)
    assert model.cached_thumbnail_count() == 0


# ------------------------------------------------------------------ incidents


def test_incident_list_shows_titles_with_capture_counts() -> None:
    model = IncidentListModel()
    model.set_incidents([Incident(1, "Unsorted captures", "", "", BASE, True, 3),
                         Incident(7, "Year 10 group chat", "Began after sports day", "",
                                  BASE, False, 1)])
    assert model.rowCount() == 2
    assert model.index(0).data() == "Unsorted captures (3)"
    assert model.index(1).data(Qt.ItemDataRole.ToolTipRole) == (
        "Year 10 group chat: 1 capture\nBegan after sports day")
    assert model.index(1).data(INCIDENT_ID_ROLE) == 7
    assert model.incident_at(1).id == 7
    assert model.row_of(7) == 1
    assert model.row_of(3) is None
    model.clear()
    assert model.rowCount() == 0


def test_a_handle_stored_without_at_is_found_as_at_name() -> None:
    """Vaults from before handles were stored as @name still hold some without the @."""
    model = CaptureTableModel()
    proxy = CaptureFilterProxy()
    proxy.setSourceModel(model)
    model.set_captures([capture(1, author="Sam Jones", handle="samj"), capture(2)])
    assert model.index(0, Column.AUTHOR).data() == "Sam Jones (@samj)"
    proxy.set_filter_text("@samj")
    assert [proxy.capture_at(r).id for r in range(proxy.rowCount())] == [1]
