"""Article Markdown to HTML, with raw HTML switched off.

The articles are written by the clinic team and reviewed, but they are still data a
clinic edits: an `<script>` or `<img onerror=…>` typed into one must show as text, not
run (and the strict CSP would block it anyway). Python-Markdown passes raw HTML through
by default, so its HTML block and inline HTML processors are removed; everything else
(headings, lists, emphasis, links) is the library's own rendering; links keep
only web, mail and phone targets.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import markdown
from django.utils.safestring import SafeString, mark_safe
from markdown.treeprocessors import Treeprocessor

SAFE_LINK_SCHEMES = frozenset({"", "http", "https", "mailto", "tel"})


class _SafeLinks(Treeprocessor):
    """Drop link targets with other schemes (`javascript:`, `data:`); the link text stays.

    Also raises headings above `min_heading` to that level, so a stray `# Heading` in a
    body never competes with the page's single `<h1>`.
    """

    def __init__(self, md, min_heading: int = 1):
        super().__init__(md)
        self.min_heading = min_heading

    def run(self, root):
        for element in root.iter():
            if len(element.tag) == 2 and element.tag[0] == "h" and element.tag[1].isdigit():
                element.tag = f"h{max(int(element.tag[1]), self.min_heading)}"
        for element in root.iter("a"):
            href = element.get("href", "")
            if urlsplit(href.strip()).scheme.lower() not in SAFE_LINK_SCHEMES:
                del element.attrib["href"]
            elif urlsplit(href).scheme:
                element.set("rel", "noopener noreferrer")
        for element in root.iter("img"):
            # Articles carry no images; a stray one would load from elsewhere and break the CSP.
            element.tag = "span"
            element.text = element.get("alt", "")
            element.attrib.clear()


def _converter(min_heading: int) -> markdown.Markdown:
    converter = markdown.Markdown(extensions=["sane_lists"], output_format="html")
    converter.preprocessors.deregister("html_block")
    converter.inlinePatterns.deregister("html")
    converter.treeprocessors.register(_SafeLinks(converter, min_heading), "safe_links", 0)
    return converter


def render_markdown(text: str, min_heading: int = 1) -> SafeString:
    """HTML for a Markdown body; any raw HTML in the source is escaped."""
    html = _converter(min_heading).convert(text)
    return mark_safe(html)  # noqa: S308 - raw HTML is disabled above, so the output holds only Markdown's own tags


LEADING_TITLE = re.compile(r"\A\s*#\s[^\n]*\n+")


def without_leading_title(text: str) -> str:
    """The body without its opening `# Title` line (the page shows the article's title already)."""
    return LEADING_TITLE.sub("", text, count=1)
