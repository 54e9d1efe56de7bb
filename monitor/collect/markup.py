"""Reading fetched documents: charset decoding, HTML/XML parsing, HTML → plain text, date parsing."""

from __future__ import annotations

import codecs
import json
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import Any, Callable, Iterator
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from lxml import etree

from monitor.errors import ExtractError

__all__ = [
    "Document",
    "decode_body",
    "fragment_text",
    "from_epoch_ms",
    "has_class",
    "html_to_text",
    "normalize_space",
    "page_title",
    "parse_date",
    "parse_html",
    "parse_iso",
    "parse_xml",
    "safe_urljoin",
    "xp_class",
]

_SPACES = re.compile(r"\s+")
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)|<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""",
    re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)
# Labels that browsers decode as windows-1252 (WHATWG Encoding Standard).
_LATIN1_LABELS = {"latin1", "latin-1", "iso-8859-1", "iso8859-1", "iso_8859-1", "us-ascii", "ascii",
                  "l1", "cp819", "windows-1252", "cp1252"}
_BLOCK_TAGS = {"p", "div", "br", "li", "ul", "ol", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5",
               "h6", "tr", "td", "th", "table", "section", "article", "header", "footer", "dd", "dt",
               "hr", "figure", "figcaption"}
_SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "button", "form", "iframe", "select",
              "textarea"}


def normalize_space(text: str) -> str:
    """All whitespace runs (newlines, NBSP, tabs) become one space; ends trimmed."""
    return _SPACES.sub(" ", text.replace("\u00ad", "").replace("\u200b", "")).strip()


# --- charset ---------------------------------------------------------------------------------------

def _codec(label: str | bytes | None) -> str | None:
    if not label:
        return None
    if isinstance(label, bytes):
        label = label.decode("ascii", "ignore")
    label = label.strip().lower()
    if label in _LATIN1_LABELS:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _try(body: bytes, codec: str) -> str | None:
    try:
        text = body.decode(codec)
    except UnicodeDecodeError:
        if codec == "cp1252":  # five byte values are undefined in cp1252; latin-1 maps them all
            return body.decode("latin-1")
        return None
    # A page labelled latin-1/1252 that is valid UTF-8 with non-ASCII bytes is really UTF-8: a very
    # common misconfiguration, and one that a single-byte decode never reports.
    if codec == "cp1252" and not body.isascii():
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return text


def decode_body(body: bytes, content_type: str | None = None) -> str:
    """Bytes → text: BOM, then the header charset, then <meta>/<?xml?>, then UTF-8, then sniffing.
    A declared charset the bytes do not fit (e.g. 'utf-8' on a windows-1251 page) is skipped."""
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                       (codecs.BOM_UTF16_BE, "utf-16-be")):
        if body.startswith(bom):
            return body[len(bom):].decode(codec, "replace")
    candidates: list[str] = []
    if content_type:
        match = _HEADER_CHARSET.search(content_type)
        if match and (codec := _codec(match.group(1))):
            candidates.append(codec)
    match = _META_CHARSET.search(body[:8192])
    if match and (codec := _codec(match.group(1) or match.group(2))):
        candidates.append(codec)
    candidates.append("utf-8")
    for codec in dict.fromkeys(candidates):
        text = _try(body, codec)
        if text is not None:
            return text
    from charset_normalizer import from_bytes

    best = from_bytes(body[:200_000]).best()
    if best is not None and best.encoding:
        return body.decode(best.encoding, "replace")
    return body.decode("cp1252", "replace")


# --- parsing ---------------------------------------------------------------------------------------

_PARSERS = threading.local()  # lxml parsers are not to be shared between threads
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_XML_ROOT = re.compile(r"^(?:<\?xml[^>]*\?>\s*)?(?:<\?xml-stylesheet[^>]*\?>\s*|<!--.*?-->\s*)*"
                       r"<(?:rss|feed|rdf:rdf|urlset|sitemapindex)[\s>]", re.S)


def parse_html(text: str) -> Any:
    """An lxml HTML tree; broken and truncated markup is repaired as far as possible. Plain etree
    elements: lxml.html's element classes cost a lookup per node and are not needed here."""
    text = _XML_DECL.sub("", text)
    parser = getattr(_PARSERS, "html", None)
    if parser is None:
        parser = _PARSERS.html = etree.HTMLParser(recover=True, no_network=True, remove_comments=True,
                                                  remove_pis=True)
    try:
        root = etree.fromstring(text, parser) if text.strip() else None
    except ValueError:
        # lxml refuses a str that still declares an encoding (a mangled <?xml …?> further in):
        # the same text as UTF-8 bytes parses.
        root = etree.fromstring(text.encode("utf-8", "replace"),
                                etree.HTMLParser(recover=True, no_network=True, remove_comments=True,
                                                 remove_pis=True, encoding="utf-8"))
    return root if root is not None else etree.fromstring("<html><body></body></html>", parser)


def parse_xml(text: str) -> Any:
    """An lxml XML tree, recovering from errors (feeds are often slightly malformed)."""
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    root = etree.fromstring(_XML_DECL.sub("", text).strip().encode("utf-8"), parser=parser)
    if root is None:
        raise ExtractError("not an XML document (empty or cut off before its root element); save "
                           "the whole feed, or give the article page instead")
    return root


def safe_urljoin(base: str | None, href: str | None) -> str | None:
    """`href` resolved against `base`; None for a link that is not a URL at all (broken markup such
    as `http://[oops`), instead of urljoin's ValueError."""
    if not href:
        return None
    try:
        return urljoin(base or "", href.strip())
    except ValueError:
        return None


def xp_class(name: str) -> str:
    """An XPath predicate body matching elements with the CSS class `name`."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def has_class(el: Any, name: str) -> bool:
    return name in (el.get("class") or "").split()


def _pieces(el: Any, skip: Callable[[Any], bool] | None) -> Iterator[str]:
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag in _SKIP_TAGS or (skip is not None and skip(el)):
        return
    if tag == "img":
        # Emoji and smilies are images with the character in alt (WordPress's wp-smiley/emoji).
        if has_class(el, "emoji") or has_class(el, "wp-smiley"):
            yield el.get("alt") or ""
        return
    block = tag in _BLOCK_TAGS
    if block:
        yield " "
    if el.text and tag:
        yield el.text
    for child in el:
        yield from _pieces(child, skip)
        if child.tail:
            yield child.tail
    if block:
        yield " "


def html_to_text(el: Any, skip: Callable[[Any], bool] | None = None) -> str:
    """Plain text of an element: block boundaries and <br> become spaces, scripts and elements for
    which `skip` is true are left out, whitespace is normalised."""
    if el is None:
        return ""
    return normalize_space("".join(_pieces(el, skip)))


def fragment_text(markup: str) -> str:
    """Plain text of an HTML fragment (REST `content.rendered`, feed `content:encoded`)."""
    if not markup or not isinstance(markup, str) or not markup.strip():
        return ""
    if "<" not in markup and "&" not in markup:
        return normalize_space(markup)
    return html_to_text(parse_html(f"<html><body>{markup}</body></html>").find("body"))


# --- documents -------------------------------------------------------------------------------------

@dataclass
class Document:
    """A fetched or saved document: its text, where it came from, and its declared type."""

    text: str
    url: str | None = None
    content_type: str | None = None

    @cached_property
    def kind(self) -> str:
        """'json', 'xml' or 'html', from the content type, else from the first characters."""
        ctype = (self.content_type or "").lower()
        head = self.text.lstrip()[:2000].lower()
        if "json" in ctype or head[:1] in ("{", "["):
            return "json"
        if _XML_ROOT.search(head):
            return "xml"
        # XHTML pages (Blogger's among them) start with an XML declaration too.
        if "<!doctype html" in head or "<html" in head or "text/html" in ctype:
            return "html"
        if "xml" in ctype or head.startswith("<?xml"):
            return "xml"
        return "html"

    @cached_property
    def base_url(self) -> str | None:
        """Where the document lives: its URL, else a saved page's canonical / og:url link."""
        if self.url or self.kind != "html":
            return self.url
        found = self.html.xpath("//link[@rel='canonical']/@href | //meta[@property='og:url']/@content")
        return found[0].strip() if found and found[0].strip().startswith("http") else None

    @cached_property
    def json(self) -> Any:
        return json.loads(self.text)

    @cached_property
    def html(self) -> Any:
        return parse_html(self.text)

    @cached_property
    def xml(self) -> Any:
        return parse_xml(self.text)


# --- dates -----------------------------------------------------------------------------------------

_MONTHS = {
    **{m: i for i, m in enumerate(["january", "february", "march", "april", "may", "june", "july",
                                   "august", "september", "october", "november", "december"], 1)},
    **{m: i for i, m in enumerate(["januar", "februar", "märz", "april", "mai", "juni", "juli",
                                   "august", "september", "oktober", "november", "dezember"], 1)},
    "jan": 1, "feb": 2, "mar": 3, "mär": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "okt": 10, "nov": 11, "dec": 12, "dez": 12, "jänner": 1, "maerz": 3,
}
_GERMAN_MONTHS = {"januar", "februar", "märz", "mai", "juni", "juli", "oktober", "dezember", "mär",
                  "okt", "dez", "jänner", "maerz"}
_BERLIN = ZoneInfo("Europe/Berlin")
_TIME = r"(?:\D{0,12}?(\d{1,2})[:.](\d{2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?)?"
_EN_DATE = re.compile(r"([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})" + _TIME, re.I)
_DMY_WORD = re.compile(r"(\d{1,2})\.?\s+([A-Za-zäÄ]{3,9})\.?,?\s+(\d{4})" + _TIME, re.I)
_DMY_NUM = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})" + _TIME)
_YMD = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})" + _TIME)
# "12 марта 2024 в 14:05", "5 янв. 2023": a day, a Cyrillic month word and a year; dateparser
# reads it. The year keeps relative phrases ("2 часа назад") out, as for the other languages.
_RU_DATE = re.compile(r"\d{1,2}\s+[а-яё]{3,9}\.?,?\s+\d{4}(?:\D{0,8}?\d{1,2}:\d{2})?", re.I)
_GERMAN_CUE = re.compile(r"\b(um|Uhr)\b")
_ISO_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


def parse_iso(value: str | None, *, assume: timezone | ZoneInfo | None = None) -> datetime | None:
    """An ISO 8601 timestamp → aware datetime; a value without offset gets `assume` or is None."""
    if not value or not isinstance(value, str):  # JSON may hold a number or null where a date belongs
        return None
    value = value.strip()
    if not _ISO_LIKE.match(value):
        return None
    value = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", value.replace("Z", "+00:00"))
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        if assume is None:
            return None
        parsed = parsed.replace(tzinfo=assume)
    return parsed


def _hm(match: re.Match[str], first: int) -> tuple[int, int, int]:
    hour_s, minute_s, second_s, ampm = match.group(first, first + 1, first + 2, first + 3)
    if hour_s is None:
        return 0, 0, 0
    hour = int(hour_s)
    if ampm:
        is_pm = ampm.lower().startswith("p")
        hour = hour % 12 + (12 if is_pm else 0)
    return hour, int(minute_s), int(second_s or 0)


def parse_date(value: str | None) -> datetime | None:
    """A timestamp as themes print it → aware datetime, or None for relative dates ('2 Jahre zuvor',
    '3 hours ago') and anything unrecognised. ISO values keep their offset; other dates have none,
    so those with a German cue (a German month name, "12. August", "um", "Uhr") are read as Berlin
    time and the rest, numeric ones included, as UTC."""
    if not value or not isinstance(value, str):
        return None
    text = normalize_space(value)
    iso = parse_iso(text, assume=timezone.utc)
    if iso is not None:
        return iso
    lowered = text.lower()
    try:
        if m := _EN_DATE.search(text):
            name = m.group(1).lower()
            month = _MONTHS.get(name)
            if month:
                hour, minute, second = _hm(m, 4)
                tz = _BERLIN if name in _GERMAN_MONTHS else timezone.utc
                return datetime(int(m.group(3)), month, int(m.group(2)), hour, minute, second, tzinfo=tz)
        if m := _DMY_WORD.search(text):
            name = m.group(2).lower()
            month = _MONTHS.get(name)
            if month:
                hour, minute, second = _hm(m, 4)
                # "12. August 2019": the ordinal dot after the day is German style.
                dotted = text[m.end(1):m.end(1) + 1] == "."
                tz = _BERLIN if name in _GERMAN_MONTHS or dotted or " um " in lowered else timezone.utc
                return datetime(int(m.group(3)), month, int(m.group(1)), hour, minute, second, tzinfo=tz)
        if m := _RU_DATE.search(text):
            return _parse_russian(m.group())
        if m := _DMY_NUM.search(text):
            hour, minute, second = _hm(m, 4)
            tz = _BERLIN if _GERMAN_CUE.search(text) else timezone.utc
            return datetime(int(m.group(3)), int(m.group(2)), int(m.group(1)), hour, minute, second,
                            tzinfo=tz)
        if m := _YMD.search(text):
            hour, minute, second = _hm(m, 4)
            return datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), hour, minute, second,
                            tzinfo=timezone.utc)
    except ValueError:  # 31 February and the like
        return None
    return None


def _parse_russian(text: str) -> datetime | None:
    """A written Russian date through dateparser (declined month names, "в", abbreviations)."""
    import dateparser

    parsed = dateparser.parse(text, languages=["ru"], settings={
        "TIMEZONE": "UTC", "RETURN_AS_TIMEZONE_AWARE": True, "REQUIRE_PARTS": ["day", "month", "year"]})
    return parsed.astimezone(timezone.utc) if parsed is not None else None


_TITLE_MAX = 500


def page_title(doc: Document) -> str | None:
    """An article page's title: og:title, else the entry heading, else <title>; None for non-HTML.
    Site text, so bounded and whitespace-normalised (display code neutralises it)."""
    if doc.kind != "html":
        return None
    for xpath in ("//meta[@property='og:title']/@content", "//h1[contains(@class, 'entry-title')]",
                  "//title", "//h1"):
        for found in doc.html.xpath(xpath):
            text = normalize_space(found if isinstance(found, str) else "".join(found.itertext()))
            if text:
                return text[:_TITLE_MAX]
    return None


def from_epoch_ms(value: str | int | None) -> datetime | None:
    """Milliseconds since the epoch (Blogger's showComment=…) → aware UTC datetime."""
    try:
        ms = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not 0 < ms < 10**14:
        return None
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=ms)
