"""`monitor extract SOURCE`: the comments of a saved file or a URL, as JSON Lines."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import click

from monitor.cli import AppContext, pass_app
from monitor.collect.base import platform_names
from monitor.errors import ConfigError, InputError

__all__ = ["extract", "extract_comments"]

# C1 controls, DEL and bidi overrides: json.dumps leaves them raw; escaping keeps the data exact and
# the terminal safe.
_UNSAFE = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_PLATFORMS = ["auto", *platform_names(documents=True)]


def _selectors(values: tuple[str, ...]) -> dict[str, str]:
    selectors = {}
    for value in values:
        key, sep, css = value.partition("=")
        if not sep or not key.strip() or not css.strip():
            raise InputError(f"--selector {value!r}: expected KEY=CSS, e.g. comment=div.comment")
        selectors[key.strip()] = css.strip()
    return selectors


def _client(app: AppContext | None, url: str) -> Any:
    """A client that may visit only `url`'s own origin, or the same host over https (the usual
    redirect); a local address is allowed there, since it was named."""
    from urllib.parse import urlsplit

    from monitor.collect.http import PoliteClient
    from monitor.config import CollectSettings

    origins = [url]
    parts = urlsplit(url)
    if parts.scheme == "http" and parts.hostname and parts.port in (None, 80):
        origins.append(f"https://{parts.netloc.rsplit(':', 1)[0] if parts.port else parts.netloc}/")

    settings: Any = CollectSettings()
    if app is not None:
        try:
            settings = app.config.collect
        except ConfigError:
            pass  # a URL can be checked before the monitor is configured
    return PoliteClient.from_settings(settings, min_delay_s=0.0, allow_private=origins, only_origins=origins)


def extract_comments(source: str, platform: str = "auto", selectors: dict[str, str] | None = None,
                     *, app: AppContext | None = None) -> list[Any]:
    """Read `source` (a path or an http(s) URL), pick the platform and extract its comments."""
    from monitor.collect.base import extractor_for
    from monitor.collect.detect import detect_document
    from monitor.collect.markup import Document, decode_body

    if source.startswith(("http://", "https://")):
        with _client(app, source) as client:
            doc = client.get(source).document()
    else:
        path = Path(source)
        try:
            body = path.read_bytes()
        except FileNotFoundError:
            raise InputError(f"{source}: no such file (give a saved page or an http(s) URL)") from None
        except OSError as exc:
            raise InputError(f"{source}: cannot read ({exc.strerror})") from None
        doc = Document(decode_body(body), url=None, content_type=None)
    if selectors and platform == "auto":
        platform = "css"
    if platform == "auto":
        platform = detect_document(doc)
    extractor = extractor_for(platform)
    return extractor(doc, selectors) if platform == "css" else extractor(doc)


@click.command("extract")
@click.argument("source")
@click.option("--platform", type=click.Choice(_PLATFORMS), default="auto", show_default=True,
              help="Comment platform of SOURCE; auto detects it from the content.")
@click.option("--selector", "selectors", multiple=True, metavar="KEY=CSS",
              help="For --platform css: comment=, author=, text=, date=, id=, parent= selectors "
                   "(CSS, CSS@attr or @attr). Repeatable.")
@click.option("--source-name", default=None, metavar="NAME",
              help="Take the platform and selectors of this configured source.")
@pass_app
def extract(app: AppContext, source: str, platform: str, selectors: tuple[str, ...],
            source_name: str | None) -> None:
    """Print the comments found in SOURCE (a saved HTML/JSON/XML file or a URL) as JSON Lines.

    Each line has external_id, parent_id, author, text, published_at (ISO 8601 or null) and url.
    Use it to check what the monitor sees on a new site before adding it to sources.toml.
    """
    chosen = _selectors(selectors)
    if source_name:
        configured = {s.name: s for s in app.config.sources}
        if source_name not in configured:
            raise InputError(f"no source named {source_name!r} in sources.toml "
                             f"(known: {', '.join(sorted(configured)) or 'none'})")
        src = configured[source_name]
        platform = src.platform if platform == "auto" else platform
        css = src.options.get("css")  # a css source's selectors (or an auto one's that sets them)
        chosen = chosen or (dict(css.selectors) if css is not None else {})
    comments = extract_comments(source, platform, chosen, app=app)
    out = sys.stdout
    for comment in comments:
        line = json.dumps(comment.to_json(), ensure_ascii=False)
        out.write(_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", line) + "\n")
    out.flush()
    if not comments:
        # Empty stdout alone reads like a crash or a hang: say what was looked for.
        from monitor.text import one_line

        click.echo(f"no comments found in {one_line(source)} (platform {platform}); a page whose "
                   "comments are loaded by script or paged elsewhere shows none: try --platform "
                   "or --selector", err=True)
    elif sys.stderr.isatty():
        click.echo(f"{len(comments)} comment(s) [{platform}]", err=True)
