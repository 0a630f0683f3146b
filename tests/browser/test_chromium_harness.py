"""The browser check itself catches what it is there to catch: a script error, a console error, a failed load and a
network fetch, on a page made to have each."""

from __future__ import annotations

import pytest
from chromium_page import available, render

pytestmark = pytest.mark.skipif(
    not available(),
    reason="Debian's chromium is not installed: `make test` installs it where apt-get can (as root)",
)

BAD_PAGE = """<!doctype html><html><body><p id="greeting">hello</p>
<img src="http://example.invalid/pixel.png">
<script>console.error("made to fail"); notDefinedAnywhere();</script></body></html>"""


def test_console_errors_and_network_fetches_are_reported(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text(BAD_PAGE, encoding="utf-8")
    rendered = render(page, evaluate="document.getElementById('greeting').textContent")
    assert rendered.evaluated == "hello"
    assert "hello" in rendered.text
    assert any("made to fail" in error for error in rendered.console_errors)
    assert any("notDefinedAnywhere" in error for error in rendered.console_errors)
    assert rendered.network_requests() == ["http://example.invalid/pixel.png"]


def test_a_clean_page_reports_nothing(tmp_path):
    page = tmp_path / "clean.html"
    page.write_text("<!doctype html><html><body><p>fine</p></body></html>", encoding="utf-8")
    rendered = render(page)
    assert (rendered.console_errors, rendered.network_requests(), rendered.text) == ([], [], "fine")
