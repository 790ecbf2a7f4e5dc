"""The site (coursetools.site, .sphinx_offline), built by Sphinx from a small executed
course (conftest's `tiny_course_run`: a lesson with math, a diagram and links, its worked
solutions and a failing lesson, on this backend with seeds 1 and 2).

Checked in the HTML Sphinx writes: every internal link resolves; the course table shows
each notebook's outcome and time in each run, as results.json has them; no page loads a
script or stylesheet from elsewhere, and MathJax and mermaid.js are the site's own.
"""

import html.parser
import re
import urllib.parse
from pathlib import Path

import keras
import pytest

from coursetools import results, site

BACKEND = keras.backend.backend()
MERMAID_STUB = "/* mermaid.min.js stand-in */ window.mermaid = {initialize() {}, run() {}};"


class _Page(html.parser.HTMLParser):
    """The links, ids, scripts, stylesheets and table rows of one HTML page."""

    def __init__(self, text):
        super().__init__()
        self.links, self.ids, self.scripts, self.stylesheets = [], set(), [], []
        self.rows, self._row, self._cell = [], None, None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
            if self._cell is not None:
                self._cell["href"] = attrs["href"]
        if tag == "img" and attrs.get("src"):
            self.links.append(attrs["src"])
        if tag == "script" and attrs.get("src"):
            self.scripts.append(attrs["src"])
            self.links.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.links.append(attrs["href"])
            if "stylesheet" in (attrs.get("rel") or "") or attrs.get("as") == "script":
                self.stylesheets.append(attrs["href"])
        if tag == "tr":
            self._row = []
        if tag in ("td", "th") and self._row is not None:
            self._cell = {"text": "", "href": None}

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._cell["text"] = " ".join(self._cell["text"].split())
            self._row.append(self._cell)
            self._cell = None
        if tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data


@pytest.fixture(scope="module")
def built(tiny_course_run, tmp_path_factory):
    _, build, _, _ = tiny_course_run
    stub = tmp_path_factory.mktemp("mermaid") / "mermaid.min.js"
    stub.write_text(MERMAID_STUB)
    record = results.load(build / "course")
    index = site.build(record, build / "course", build / "site", mermaid_js=stub)
    return record, index


def _pages(site_dir):
    return {path: _Page(path.read_text(encoding="utf-8")) for path in site_dir.rglob("*.html")}


def _is_remote(url):
    return bool(re.match(r"^(?:[a-z][a-z0-9+.-]*:)?//", url, re.I))


def test_the_site_has_a_page_per_notebook_and_run(built):
    record, index = built
    assert index.name == "index.html" and index.exists()
    for run in record["runs"]:
        for notebook in record["notebooks"]:
            page = Path(run["folder"], notebook["path"]).with_suffix(".html")
            assert (index.parent / page).exists(), page


def test_every_internal_link_resolves(built):
    _, index = built
    pages = _pages(index.parent)
    checked = 0
    for path, page in pages.items():
        if path.parent.name == "_static":
            continue  # the theme's template macros, not pages
        for link in page.links:
            parsed = urllib.parse.urlsplit(link)
            if _is_remote(link) or parsed.scheme in ("mailto", "data", "javascript"):
                continue
            target = (path.parent / urllib.parse.unquote(parsed.path)).resolve()
            if not parsed.path:
                target = path
            assert target.exists(), f"{path.relative_to(index.parent)} links to missing {link}"
            if parsed.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else set()
                assert parsed.fragment in ids, f"{path.name}: no #{parsed.fragment} in {link}"
            checked += 1
    assert checked > 100


def test_the_course_table_matches_the_results(built):
    record, index = built
    rows = _pages(index.parent)[index].rows
    header = [cell["text"] for cell in rows[0]]
    labels = [results.run_label(r["backend"], r["seed"]) for r in record["runs"]]
    assert header == ["Lesson", "What it teaches", *labels]
    by_name = {row[0]["text"]: row for row in rows[1:]}
    assert set(by_name) == {"97 · Fails", "98 · A probe", "↳ worked solutions", "All notebooks"}
    assert by_name["98 · A probe"][1]["text"] == "What a probe teaches, with code and a | bar."
    notebook_of = {"97 · Fails": "97_fails", "98 · A probe": "98_probe"}
    notebook_of["↳ worked solutions"] = "solutions/98_probe_solutions"
    for name, stem in notebook_of.items():
        for run, cell in zip(record["runs"], by_name[name][2:]):
            row = results.result_of(record, f"{stem}.ipynb", run)
            mark = "✓" if row["passed"] else "✗ failed,"
            assert cell["text"] == f"{mark} {row['seconds']:.0f} s"
            assert cell["href"] == f"{run['folder']}/{stem}.html"
    for run, cell in zip(record["runs"], by_name["All notebooks"][2:]):
        passed, failed, seconds = results.run_totals(record, run)
        assert cell["text"] == f"{passed} of {passed + failed} passed, {seconds:.0f} s"


def test_no_page_refers_to_a_remote_script_or_stylesheet(built):
    _, index = built
    for path, page in _pages(index.parent).items():
        remote = [url for url in page.scripts + page.stylesheets if _is_remote(url)]
        assert not remote, f"{path.name} loads {remote}"
    imports = re.compile(
        r"""(?:\bimport\s*\(?\s*|\bfrom\s+|importScripts\s*\(\s*|@import\s+(?:url\()?)"""
        r"""["'](?:https?:)?//""",
        re.I,
    )
    for path in (index.parent / "_static").rglob("*"):
        if path.suffix in (".js", ".mjs", ".css"):
            found = imports.search(path.read_text(encoding="utf-8", errors="replace"))
            assert found is None, f"{path.name} imports {found.group(0)}..."


def test_math_and_diagrams_come_from_the_site_itself(built):
    record, index = built
    page_path = index.parent / record["runs"][0]["folder"] / "98_probe.html"
    text = page_path.read_text(encoding="utf-8")
    page = _Page(text)
    assert "../../_static/mathjax/tex-chtml.js" in page.scripts
    assert (index.parent / "_static" / "mathjax" / "tex-chtml.js").stat().st_size > 100_000
    assert "../../_static/mermaid/mermaid.min.js" in page.scripts
    assert (index.parent / "_static" / "mermaid" / "mermaid.min.js").read_text() == MERMAID_STUB
    assert (
        '<pre class="mermaid">flowchart LR\n    a[&quot;x&lt;br/&gt;y&quot;] --&gt; b</pre>' in text
    )
    assert r"\begin{aligned}" in text
    front = (index.parent / "index.html").read_text(encoding="utf-8")
    assert "mermaid.min.js" not in front  # only pages with a diagram load it


def test_lessons_link_their_solutions_and_their_other_runs(built):
    record, index = built
    first, second = (run["folder"] for run in record["runs"])
    page = _Page((index.parent / first / "98_probe.html").read_text(encoding="utf-8"))
    assert "solutions/98_probe_solutions.html" in page.links
    assert "../seed-2/98_probe.html" in page.links or f"../../{second}/98_probe.html" in page.links
    assert not [link for link in page.links if "99_not_built" in link]  # not built: text
    solutions = index.parent / first / "solutions" / "98_probe_solutions.html"
    assert "../98_probe.html" in _Page(solutions.read_text(encoding="utf-8")).links
    label = results.run_label(record["runs"][0]["backend"], 1)
    title = (index.parent / first / "98_probe.html").read_text(encoding="utf-8")
    assert f"<title>98 · A probe ({label})" in title  # the runs told apart in search results
    failing = (index.parent / first / "97_fails.html").read_text(encoding="utf-8")
    assert "AssertionError: the check failed" in failing


def test_search_covers_every_page(built):
    record, index = built
    searchindex = (index.parent / "searchindex.js").read_text(encoding="utf-8")
    for run in record["runs"]:
        assert f'"{run["folder"]}/98_probe"' in searchindex
        assert f'"{run["folder"]}/solutions/98_probe_solutions"' in searchindex
    assert (index.parent / "search.html").exists()


def test_without_mermaid_js_the_diagram_shows_its_source(tiny_course_run, tmp_path, monkeypatch):
    _, build, _, _ = tiny_course_run
    record = results.load(build / "course")
    record["runs"] = record["runs"][:1]
    monkeypatch.setattr(site.environment, "mermaid_js", lambda: None)
    index = site.build(record, build / "course", tmp_path / "site")
    page = (index.parent / record["runs"][0]["folder"] / "98_probe.html").read_text()
    assert '<pre class="mermaid-source">flowchart LR' in page and "mermaid.min.js" not in page
