"""Playwright on Debian's Chromium (no browser download): fixtures for the browser tests.

Every page a browser test opens is checked for accessibility: the ``page`` fixture runs axe-core
(shipped by ``axe-playwright-python``) after each document load and after each htmx swap, and
fails the test at teardown if any check found a serious or critical violation, listing the rule,
its impact, the offending elements and the URL. Two checks of our own are reported the same way:
same-page links (``href="#…"``: the skip link, error summaries) must point at an element that
exists, and no page may scroll sideways (WCAG 1.4.10 reflow; it matters at phone width).
"""

import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
LAUNCH_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
DESKTOP = {"width": 1360, "height": 900}
MOBILE = {"width": 375, "height": 812}
BLOCKING_IMPACTS = {"serious", "critical"}
AXE_STATS = {"runs": 0, "seconds": 0.0, "reused": 0}  # reported at the end of the run (what the harness costs)
# Findings per (viewport width, document fingerprint): a document seen before (the sign-in page, a
# dashboard) is not audited again; its findings are reported again for the URL it now has.
AXE_MEMO: dict[tuple[int, str], list[tuple]] = {}

# After an htmx swap settles, tell Python (debounced: one swap can settle several targets, e.g. the
# results and the out-of-band facets). Injected by the browser itself, so the page's CSP does not apply.
HTMX_SWAP_HOOK = """
document.addEventListener("htmx:afterSettle", () => {
  window.__a11yChecked = false;  // the document changed: what was checked is no longer what is shown
  clearTimeout(window.__a11yTimer);
  window.__a11yTimer = setTimeout(() => window.__a11ySwapped && window.__a11ySwapped(), 30);
});
"""
# Same-page links whose target does not exist (a skip link to nowhere, an error summary naming a field
# that is not on the page).
DANGLING_FRAGMENTS = """
() => Array.from(document.querySelectorAll('a[href^="#"]'))
  .map((a) => a.getAttribute("href").slice(1))
  .filter((id) => id && !document.getElementById(decodeURIComponent(id)))
"""
# WCAG 1.4.10 (reflow): nothing may widen the page beyond the viewport, so phones never scroll sideways
# (tables scroll inside their own region). Names the element that sticks out furthest.
HORIZONTAL_OVERFLOW = """
() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width + 1) return null;
  let widest = null, right = width;
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.right > right + 1) { right = box.right; widest = el; }
  }
  if (!widest) return `page ${document.documentElement.scrollWidth}px wide`;
  const name = widest.tagName.toLowerCase() + (widest.className ? "." + String(widest.className).trim().split(/\\s+/).join(".") : "");
  return `${name} reaches ${Math.round(right)}px of ${width}px`;
}
"""
# The document as axe sees it, minus what changes on every render without changing what is shown
# (CSRF tokens, nonces, database ids and timestamps): a 32-bit FNV-1a hash and the length. Marks the
# document as checked, and says which URL it is, in the same step (it may be replaced at any moment).
FINGERPRINT = """
() => {
  window.__a11yChecked = true;
  const html = document.documentElement.outerHTML
    .replace(/(csrfmiddlewaretoken" value=")[^"]*/g, "$1")
    .replace(/(X-CSRFToken&quot;: &quot;)[^&]*/g, "$1")
    .replace(/nonce="[^"]*"/g, "")
    .replace(/[0-9]+/g, "0");
  let hash = 0x811c9dc5;
  for (let i = 0; i < html.length; i++) { hash ^= html.charCodeAt(i); hash = Math.imul(hash, 16777619); }
  return [location.href, `${document.documentElement.clientWidth}:${html.length}:${hash >>> 0}`];
}
"""


@dataclass(frozen=True)
class Finding:
    rule: str
    impact: str
    url: str
    width: int
    targets: tuple[str, ...]
    detail: str

    def __str__(self):
        return f"{self.rule} ({self.impact}) at {self.url} [{self.width}px]: {', '.join(self.targets)} — {self.detail}"


class A11yAudit:
    """Runs axe on a page after every load and htmx swap; collects blocking findings for teardown.

    The checks run from Playwright's event handlers, next to the test (which goes on meanwhile). So
    that no document escapes, ``page.goto`` first makes sure the document it leaves was checked, and
    so does the fixture's teardown for the last one.
    """

    def __init__(self, page, viewport):
        from axe_playwright_python.sync_playwright import Axe

        self.page = page
        self.width = viewport["width"]
        self.axe = Axe()
        self.findings: dict[tuple, Finding] = {}
        self.checked_urls: list[str] = []
        self.in_flight = 0
        page.on("load", lambda _page: self.check(during_navigation=True))
        page.expose_function("__a11ySwapped", lambda: self.check(during_navigation=True))
        page.add_init_script(HTMX_SWAP_HOOK)
        goto = page.goto

        def checked_goto(*args, **kwargs):
            self.ensure_checked()
            return goto(*args, **kwargs)

        page.goto = checked_goto

    def ensure_checked(self) -> None:
        """Return once the document on screen has been checked: wait for a running check, or run one."""
        from playwright.sync_api import Error

        deadline = time.monotonic() + 30
        while self.in_flight and time.monotonic() < deadline:
            self.page.wait_for_timeout(20)  # lets the event handler's check proceed
        try:
            if self.page.url != "about:blank" and not self.page.evaluate("window.__a11yChecked === true"):
                self.check()
        except Error:
            pass  # the page is on its way elsewhere: that document is checked when it loads

    def check(self, during_navigation=False) -> list[Finding]:
        """Audit the page as it is now; returns the blocking findings of this run.

        Run from an event, the page may already be on its way to the next document (a form that
        redirects, a test that navigates on at once): that run is dropped, since the next document
        gets its own check on load.
        """
        from playwright.sync_api import Error

        started = time.perf_counter()
        self.in_flight += 1
        try:
            if self.page.url == "about:blank":
                return []
            url, fingerprint = self.page.evaluate(FINGERPRINT)
            raw = AXE_MEMO.get((self.width, fingerprint))
            if raw is None:
                raw = self._audit()
                AXE_MEMO[(self.width, fingerprint)] = raw
                AXE_STATS["runs"] += 1
                AXE_STATS["seconds"] += time.perf_counter() - started
            else:
                AXE_STATS["reused"] += 1
        except Error:
            if during_navigation:
                return []
            raise
        finally:
            self.in_flight -= 1
        found = [Finding(rule, impact, url, self.width, targets, detail) for rule, impact, targets, detail in raw]
        for finding in found:
            self.findings.setdefault((finding.rule, finding.url, finding.width, finding.targets), finding)
        self.checked_urls.append(url)
        return found

    def _audit(self) -> list[tuple]:
        """axe-core's serious and critical violations plus dangling same-page links, as plain tuples."""
        if not self.page.evaluate("typeof window.axe === 'object'"):
            self.page.evaluate(self.axe.axe_script)
        results = self.page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        raw = []
        for violation in results["violations"]:
            if violation["impact"] not in BLOCKING_IMPACTS:
                continue
            for node in violation["nodes"]:
                targets = tuple(" ".join(t) if isinstance(t, list) else t for t in node["target"])
                detail = "; ".join(check["message"] for check in node["any"] + node["all"] + node["none"])
                raw.append((violation["id"], violation["impact"], targets, detail))
        raw += [
            ("dangling-fragment-link", "serious", (f'a[href="#{target}"]',),
             "Same-page links must point at an element with that id")
            for target in self.page.evaluate(DANGLING_FRAGMENTS)
        ]  # fmt: skip
        overflow = self.page.evaluate(HORIZONTAL_OVERFLOW)
        if overflow:
            raw.append(("horizontal-overflow", "serious", ("html",), f"The page scrolls sideways: {overflow}"))
        return raw

    def report(self) -> str:
        lines = [str(f) for f in self.findings.values()]
        return f"{len(lines)} serious/critical accessibility finding(s):\n  " + "\n  ".join(lines)

    def assert_clean(self) -> None:
        if self.findings:
            pytest.fail(self.report(), pytrace=False)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make chromium` (apt-get install chromium).")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    """``new_page(viewport)`` → a page in a fresh context, audited by axe; all are checked at teardown.

    The CSP stays enforced (axe is evaluated through the DevTools protocol, which CSP does not
    govern), so a CSP violation still shows in ``page.console_errors``.
    """
    contexts, audits = [], []

    def make(viewport=DESKTOP):
        context = browser.new_context(viewport=viewport, base_url=live_server.url)
        contexts.append(context)
        page = context.new_page()
        errors = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.console_errors = errors
        page.a11y = A11yAudit(page, viewport)
        audits.append(page.a11y)
        return page

    yield make
    try:
        for audit in audits:
            audit.ensure_checked()  # the last document, or its last htmx swap
        failures = [audit.report() for audit in audits if audit.findings]
        if failures:
            pytest.fail("\n".join(failures), pytrace=False)
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def page(new_page):
    return new_page(DESKTOP)


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # caret="initial" leaves no style="" attributes behind (they would trip the CSP on the next htmx swap).
    page.screenshot(path=str(path), full_page=True, caret="initial")
    return path


def sign_in(page, email: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def pytest_terminal_summary(terminalreporter):
    if AXE_STATS["runs"]:
        terminalreporter.write_line(
            f"axe: {AXE_STATS['runs']} page checks in {AXE_STATS['seconds']:.1f} s "
            f"({AXE_STATS['seconds'] / AXE_STATS['runs'] * 1000:.0f} ms each); "
            f"{AXE_STATS['reused']} documents seen before, their findings reused"
        )
