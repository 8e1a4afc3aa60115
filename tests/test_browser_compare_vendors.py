"""Comparing vendors in a real browser: tick, filter, tick again, compare, export — the selection survives the
search (htmx swaps) and the compare page and its exports show the same vendors. Screenshots go to
test-artifacts/screenshots (and /tmp/shots_cmp when that directory exists, for a person to look at)."""

import csv
import io
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser import SCREENSHOTS
from tests.test_browser_vendors import demo, htmx_settled, shot, signed_in, watch_htmx  # noqa: F401 (demo: a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SHOTS = Path("/tmp/shots_cmp")


def keep(page, name):
    """A screenshot (``shot``), copied to /tmp/shots_cmp when that directory exists."""
    shot(page, name)
    if SHOTS.is_dir():
        shutil.copy(SCREENSHOTS / f"{name}.png", SHOTS / f"{name}.png")


def tick(box):
    """Tick (or untick) with the keyboard: no pointer is left over a button that a swap then moves under it (axe
    would audit that button's hover colours)."""
    box.press("Space")


def test_alice_ticks_filters_ticks_again_compares_and_exports(page, demo):  # noqa: F811
    signed_in(page, "alice@acme.test")
    page.goto("/vendors/")
    watch_htmx(page)
    tray = page.get_by_test_id("compare-tray")
    expect(tray.get_by_role("heading")).to_have_text("Compare (0)")

    tick(page.get_by_role("checkbox", name="Compare Helix Manufacturing"))
    expect(tray.get_by_role("heading")).to_have_text("Compare (1)")
    expect(tray.get_by_role("button", name="Remove Helix Manufacturing from the comparison")).to_be_visible()
    htmx_settled(page)

    # A filter swaps the results in: Helix stays picked (the tray and its box say so).
    page.fill("#q", "sterile fill-finish")
    page.get_by_role("button", name="Go").click()
    expect(page.locator("#result-status")).to_contain_text("for “sterile fill-finish”")
    htmx_settled(page)  # else the next filter replaces (aborts) this search's request: a console error
    page.check("#f-country-DE")
    expect(page.locator("#result-status")).to_have_text("2 vendors for “sterile fill-finish”, 1 filter applied")
    htmx_settled(page)
    expect(tray.get_by_role("heading")).to_have_text("Compare (1)")
    expect(page.locator("#cmp-helix-manufacturing")).to_be_checked()

    tick(page.get_by_role("checkbox", name="Compare Rheinland Sterile Solutions"))
    expect(tray.get_by_role("heading")).to_have_text("Compare (2)")
    htmx_settled(page)
    # A third one, then taken out again from the tray: its box follows, the focus lands on the tray.
    page.uncheck("#f-country-DE")
    htmx_settled(page)
    tick(page.get_by_role("checkbox", name="Compare Lyon Aseptic"))
    expect(tray.get_by_role("heading")).to_have_text("Compare (3)")
    htmx_settled(page)
    keep(page, "compare-tray")
    tray.get_by_role("button", name="Remove Lyon Aseptic from the comparison").press("Enter")
    expect(tray.get_by_role("heading")).to_have_text("Compare (2)")
    expect(page.locator("#cmp-lyon-aseptic")).not_to_be_checked()
    expect(page.locator("#compare-tray-heading")).to_be_focused()
    htmx_settled(page)

    page.get_by_role("button", name="Compare selected").click()
    page.wait_for_url("**/vendors/compare/")
    table = page.get_by_test_id("comparison")
    expect(table.locator("thead th[scope=col] > a")).to_have_text(
        ["Helix Manufacturing", "Rheinland Sterile Solutions"]
    )
    founded = table.locator("tr", has=page.locator("th", has_text="Founded"))
    expect(founded.get_by_test_id("differs")).to_have_text("Differs")
    expect(table).to_contain_text("Our qualification")
    expect(table.locator("tr", has=page.locator("th", has_text="ISO 9001")).locator("td").first).to_contain_text(
        "Expired"
    )
    keep(page, "compare-page")

    with page.expect_download() as download:
        page.get_by_role("link", name="Export XLSX").click()
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))["Comparison"]
    header = [c.value for c in next(sheet.iter_rows(min_row=2, max_row=2))]
    assert header == ["Section", "Aspect", "Helix Manufacturing", "Rheinland Sterile Solutions", "Differs"]
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert rows[0] == header
    assert [row[1] for row in rows[1:]] == [c.value for c in sheet["B"][2:]]
    assert any(row[:2] == ["Our qualification", "Status"] for row in rows)
    assert page.console_errors == []


def test_compare_with_on_a_profile_then_the_seventh_is_refused(page, demo):  # noqa: F811
    signed_in(page, "alice@acme.test")
    page.goto("/vendors/orbital-cdmo/")
    page.get_by_role("button", name="Compare with…").click()
    page.wait_for_url("**/vendors/")
    expect(page.get_by_text("Now tick another vendor in the directory to compare with.")).to_be_visible()
    expect(page.locator("#cmp-orbital-cdmo")).to_be_checked()
    page.goto("/vendors/lyon-aseptic/")
    page.get_by_role("button", name="Compare with…").click()
    page.wait_for_url("**/vendors/compare/")
    expect(page.get_by_test_id("vendor-column")).to_have_count(2)

    page.goto("/vendors/?sort=name")
    watch_htmx(page)
    boxes = page.locator('input[form="compare-form"][type=checkbox]:not(:checked)')
    for _ in range(4):
        tick(boxes.first)
        htmx_settled(page)
    expect(page.get_by_test_id("compare-tray").get_by_role("heading")).to_have_text("Compare (6)")
    name = boxes.first.get_attribute("value")
    tick(page.locator(f"#cmp-{name}"))  # refused: the box is unticked again when the tray comes back
    alert = page.get_by_role("alert").filter(has_text="You can compare at most 6 vendors")
    expect(alert).to_be_visible()
    expect(page.locator(f"#cmp-{name}")).not_to_be_checked()
    keep(page, "compare-seventh-refused")
    assert page.console_errors == []
