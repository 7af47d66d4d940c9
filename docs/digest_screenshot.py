"""Draw ``docs/digest.png``: a digest as a reader sees it once published (the Markdown rendered).

    .venv/bin/aggregator demo --dir /tmp/aggregator-demo
    AGGREGATOR_DATA_DIR=/tmp/aggregator-demo .venv/bin/aggregator --config /tmp/aggregator-demo/feeds.yaml \\
        digest render 2026-12 -o /tmp/aggregator-demo/digest.md
    .venv/bin/python docs/digest_screenshot.py /tmp/aggregator-demo/digest.md

The Markdown is rendered with markdown-it-py (Rich's own Markdown parser, so nothing new to install) into
a page styled like a blog post, then headless Chromium takes the picture (``apt-get install chromium
fonts-noto-cjk``). The links of the demo point at 127.0.0.1 and are only drawn, never followed.
"""

from __future__ import annotations

import html
import subprocess
import sys
import tempfile
from pathlib import Path

from markdown_it import MarkdownIt

HERE = Path(__file__).resolve().parent
STYLE = """
body { font: 15px/1.55 "Noto Sans", "Noto Sans CJK KR", "Noto Sans CJK JP", sans-serif; color: #1f2328;
       margin: 0; padding: 24px 32px; background: #fff; }
h1 { font-size: 24px; border-bottom: 1px solid #d1d9e0; padding-bottom: 6px; margin: 0 0 16px; }
h2 { font-size: 19px; border-bottom: 1px solid #d1d9e0; padding-bottom: 4px; margin: 22px 0 10px; }
h3 { font-size: 16px; margin: 14px 0 6px; }
ul { margin: 0 0 8px; padding-left: 24px; }
li { margin: 3px 0; }
a { color: #0969da; text-decoration: none; }
blockquote { color: #59636e; border-left: 4px solid #d1d9e0; margin: 0 0 12px; padding: 0 12px; }
"""


def page(markdown: str, title: str) -> str:
    body = MarkdownIt("commonmark").render(markdown)
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    )


def main(source: Path, out: Path, width: int = 900, height: int = 790) -> None:
    markdown = source.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        html_file = Path(tmp) / "digest.html"
        html_file.write_text(page(markdown, source.name), encoding="utf-8")
        subprocess.run(
            [
                "chromium", "--headless", "--no-sandbox", "--hide-scrollbars", "--disable-gpu",
                f"--window-size={width},{height}", f"--screenshot={out}", html_file.as_uri(),
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
    print(f"wrote {out}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: docs/digest_screenshot.py DIGEST.md")
    main(Path(sys.argv[1]), HERE / "digest.png")
