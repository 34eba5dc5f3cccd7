"""A small Sphinx extension for the book (loaded through ``_config.yml``).

Jupyter Book 1 always loads sphinx-thebe, which writes its configuration script into every page
twice (a page error in the browser) and names a CDN. This book has no live code, so the thebe
scripts are removed from every page at their source.
"""

from __future__ import annotations


def _is_thebe(script) -> bool:
    filename = str(getattr(script, "filename", "") or "")
    body = str((getattr(script, "attributes", {}) or {}).get("body", ""))
    return filename.endswith("sphinx-thebe.js") or "THEBE_JS_URL" in body or "thebe" in filename.split("/")[-1]


def _drop_thebe(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if scripts:
        context["script_files"] = [s for s in scripts if not _is_thebe(s)]


def setup(app):
    app.connect("html-page-context", _drop_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
