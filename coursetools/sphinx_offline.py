"""A Sphinx extension for the course site: everything a page needs comes from the site.

- Mermaid: a ```` ```mermaid ```` fence (MyST's `myst_fence_as_directive`) becomes a
  `<pre class="mermaid">` that the site's own copy of mermaid.js draws in the browser.
  sphinxcontrib-mermaid imports mermaid as an ES module, which browsers refuse to load
  from `file://`; the classic `mermaid.min.js` loads from a folder opened directly too.
  Without a mermaid.js (npm was missing at set-up) the diagram is shown as its source.
- Math: MathJax from the PyPI package sphinx-mathjax-offline, copied into `_static/`.
- A link to a notebook this run did not build (`--only`) is shown as its text instead of
  a link that leads nowhere.

Configuration: `offline_mermaid_js`, the path of `mermaid.min.js` ("" for none).
"""

import html
import posixpath
import shutil
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx import addnodes
from sphinx.transforms.post_transforms import SphinxPostTransform

MERMAID_STATIC = "mermaid/mermaid.min.js"
# Mermaid picks its colours when it draws: dark ones under the theme's dark mode.
MERMAID_START = """
document.addEventListener("DOMContentLoaded", () => {
  const dark = document.documentElement.dataset.theme === "dark";
  mermaid.initialize({startOnLoad: false, securityLevel: "strict",
                      theme: dark ? "dark" : "default"});
  // A diagram fits the column, but is never drawn below 3/4 of its natural size (its
  // labels would be too small to read): wider ones scroll sideways. A click shows it at
  // its natural size.
  mermaid.run({querySelector: "pre.mermaid"}).then(() => {
    for (const svg of document.querySelectorAll("pre.mermaid svg")) {
      const natural = parseFloat(svg.style.maxWidth);
      if (natural) svg.style.minWidth = `${Math.round(0.75 * natural)}px`;
    }
  });
  for (const diagram of document.querySelectorAll("pre.mermaid")) {
    diagram.title = "Click to show the diagram at full size";
    diagram.addEventListener("click", () => diagram.classList.toggle("full-size"));
  }
});
"""


class mermaid_diagram(nodes.General, nodes.Element):
    """A diagram's Mermaid source, drawn in the browser."""


class MermaidDirective(Directive):
    has_content = True

    def run(self):
        return [mermaid_diagram(code="\n".join(self.content))]


def _visit_mermaid_html(translator, node):
    if translator.builder.config.offline_mermaid_js:
        translator.body.append(f'<pre class="mermaid">{html.escape(node["code"])}</pre>\n')
    else:
        translator.body.append(f'<pre class="mermaid-source">{html.escape(node["code"])}</pre>\n')
    raise nodes.SkipNode


def _visit_mermaid_text(translator, node):
    translator.add_text(node["code"])
    raise nodes.SkipNode


def _copy_mermaid(app, exception):
    source = app.config.offline_mermaid_js
    if exception is None and source and app.builder.format == "html":
        target = Path(app.outdir, "_static", MERMAID_STATIC)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        license_file = Path(source).with_name("LICENSE")
        if license_file.exists():
            shutil.copyfile(license_file, target.with_name("LICENSE"))


def _add_mermaid_scripts(app, pagename, templatename, context, doctree):
    if doctree is None or not app.config.offline_mermaid_js:
        return
    if next(iter(doctree.findall(mermaid_diagram)), None) is not None:
        app.add_js_file(MERMAID_STATIC, priority=600)
        app.add_js_file(None, body=MERMAID_START, priority=601)


class UnbuiltNotebookLinksAsText(SphinxPostTransform):
    """A link to a notebook this build lacks (`--only`) becomes its text, before MyST would
    make it a dead in-page anchor and warn."""

    default_priority = 8  # before myst-parser's MystReferenceResolver (9)

    def run(self, **kwargs):
        for node in list(self.document.findall(addnodes.pending_xref)):
            target = node.get("reftarget", "").split("#")[0]
            if node.get("reftype") != "myst" or not target.endswith((".ipynb", ".md")):
                continue
            folder = posixpath.dirname(node.get("refdoc", self.env.docname))
            docname = posixpath.normpath(posixpath.join(folder, target.rsplit(".", 1)[0]))
            if docname not in self.env.all_docs:
                node.replace_self(node.children or [nodes.Text(target)])


def setup(app):
    app.add_config_value("offline_mermaid_js", "", "html")
    app.add_node(
        mermaid_diagram,
        html=(_visit_mermaid_html, None),
        text=(_visit_mermaid_text, None),
    )
    app.add_directive("mermaid", MermaidDirective)
    app.connect("html-page-context", _add_mermaid_scripts)
    app.connect("build-finished", _copy_mermaid)
    app.add_post_transform(UnbuiltNotebookLinksAsText)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
