"""Whole saved pages as real sites print them (WordPress themes, wpDiscuz 5, Blogger, schema.org
microdata and JSON-LD): `monitor extract` picks the right reader, drops the chrome around each
comment, and never crashes on cut-off or mangled copies of any fixture."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from monitor.collect.base import extractor_for
from monitor.collect.detect import detect_document
from monitor.collect.markup import Document, decode_body
from monitor.errors import ExtractError
from tests.helpers import run_cli

FIXTURES = Path(__file__).parent / "fixtures"

# fixture → (platform auto-detection picks, [(id, parent, author, text)] in page order)
PAGES = {
    "wp_twentytwenty_de.html": ("wordpress", [
        ("901", None, "Renate Kowalski",
         "Endlich! Ich fahre dort jeden Morgen und es ist abends stockdunkel. Hoffentlich kommt auch "
         "Beleuchtung dazu."),
        ("902", "901", "Redaktion", "Laut Bezirksamt sind Laternen eingeplant."),
        ("905", None, "Gast123", "Schon wieder Geld für Radfahrer – die Autofahrer zahlen doch alles!"),
    ]),
    "wp_block_theme_en.html": ("wordpress", [
        ("3101", None, "Priya", "I finish at the hospital at midnight. Without the N4 I walk forty minutes."),
        ("3102", "3101", "commuter_jo", "Same for the bakery staff on my street."),
        ("3107", None, "Gerald", "Nobody rides it. Scrap it and stop whining."),
    ]),
    "wp_generatepress_en.html": ("wordpress", [
        ("640", None, "Margaret O'Neill", "Eight years! I'll be ninety before I get my beans in."),
        ("641", "640", "Greenbank Plot Society", "Half plots are offered first – ask us."),
    ]),
    "wpdiscuz5_de.html": ("wpdiscuz", [
        ("8801", None, "Hinnerk", "Die Dinger verschandeln die ganze Aussicht. Wer hat sich das ausgedacht?"),
        ("8803", "8801", "Tjark", "Mir gefällt der Strom aus Wind besser als Kohle. Und die Aussicht ist "
                                  "20 km weit weg."),
        ("8802", None, "Fischer Ahlers", "Was wird aus den Fanggründen?"),
    ]),
    "blogger_avatar_dl_de.html": ("blogger", [
        ("8100100200300401", None, "Hajo", "Bei uns im Dorf ging gar nichts mehr. Der Räumdienst kam erst mittags."),
        ("8100100200300403", None, "Moorbach-Redaktion",
         "Die Straßenmeisterei hat inzwischen einen zweiten Pflug geschickt."),
    ]),
    "schema_microdata_de.html": ("schema", [
        ("77120", None, "Schwimmer_Heinz", "Eine Schande. Wo sollen die Kinder im Sommer hin?"),
        ("77125", "77120", "M. Brandt", "Der See ist doch nebenan. Kostet nichts."),
        ("77131", None, "Anonym", "Typisch Gemeinderat & typisch für diese Zeitung."),
    ]),
    "schema_jsonld_en.html": ("schema", [
        ("5012", None, "Dana W.", "My kids do their homework there after school. Where are they meant to go now?"),
        ("5015", "5012", "Centre volunteer", "The community centre has a study room & it is open till eight."),
        ("5019", None, "throwaway77", "Good. Nobody reads books any more."),
    ]),
}


def load(name: str) -> Document:
    return Document(decode_body((FIXTURES / name).read_bytes()))


@pytest.mark.parametrize("name", sorted(PAGES))
def test_extract_command_picks_the_reader_and_reads_each_saved_page(name, capsys):
    platform, expected = PAGES[name]
    assert detect_document(load(name)) == platform
    code, out, err = run_cli(capsys, "extract", str(FIXTURES / name))
    assert code == 0, err
    got = [json.loads(line) for line in out.splitlines()]
    assert [(c["external_id"], c["parent_id"], c["author"], c["text"]) for c in got] == expected


def test_dates_keep_the_offset_the_page_gives_or_the_sites_zone():
    by_id = {c.external_id: c for c in extractor_for("wordpress")(load("wp_twentytwenty_de.html"))}
    assert by_id["901"].published_at.isoformat() == "2024-05-14T19:03:11+02:00"
    wpd = {c.external_id: c for c in extractor_for("wpdiscuz")(load("wpdiscuz5_de.html"))}
    # "12. August 2019 21:07" in the date's title: German style, so Berlin time (CEST).
    assert wpd["8801"].published_at.isoformat() == "2019-08-12T21:07:00+02:00"
    assert wpd["8802"].published_at is None  # only "5 Jahre zuvor"
    blog = {c.external_id: c for c in extractor_for("blogger")(load("blogger_avatar_dl_de.html"))}
    assert blog["8100100200300401"].published_at.isoformat() == "2014-01-12T17:05:00+00:00"
    micro = extractor_for("schema")(load("schema_microdata_de.html"))
    assert micro[2].published_at.isoformat() == "2024-07-02T10:45:00+02:00"  # from <meta content>


def test_comment_urls_point_at_the_comment():
    block = extractor_for("wordpress")(load("wp_block_theme_en.html"))
    assert block[0].url == "https://riverside-weekly.example/night-bus/#comment-3101"
    micro = extractor_for("schema")(load("schema_microdata_de.html"))
    assert micro[0].url == "https://www.talbote.example/lokales/freibad-zuschuss-12345.html#uc-77120"


OLD_THEME = """<html><body><div id="comments"><ol class="commentlist">
<li class="alt" id="comment-31"><cite>Irmgard</cite> sagt:<br/>
<em>Dein Kommentar muss noch freigegeben werden.</em><br/>
<small class="commentmetadata"><a href="#comment-31">3. März 2012 um 10:12</a></small>
<p>Das Pflaster ist seit Jahren kaputt.</p>
<p><a href="/strasse/?replytocom=31#respond" onclick="return addComment.moveForm('comment-31')">Antworten</a></p></li>
</ol></div></body></html>"""


def test_old_themes_drop_the_moderation_notice_and_unclassed_reply_links():
    [c] = extractor_for("wordpress")(Document(OLD_THEME))
    assert (c.author, c.text) == ("Irmgard", "Das Pflaster ist seit Jahren kaputt.")
    assert c.published_at.isoformat() == "2012-03-03T10:12:00+01:00"


def test_blogger_classic_comment_ids_come_from_the_body_when_there_is_no_anchor():
    page = ("<html><head><meta content='blogger' name='generator'/></head><body><dl id='comments-block'>"
            "<dt class='comment-author'>Uwe said...</dt><dd class='comment-body' id='Blog1_cmt-9912'>"
            "<p>First!</p></dd><dd class='comment-footer'><span class='comment-timestamp'>"
            "<a href='/p.html?showComment=1389546300000#c9912'>12 January 2014</a></span></dd></dl></body></html>")
    [c] = extractor_for(detect_document(Document(page)))(Document(page))
    assert (c.external_id, c.author, c.text) == ("9912", "Uwe", "First!")


def test_wordpress_markup_wins_over_the_schema_org_fallback():
    # Genesis prints both: the WordPress reader (with pingbacks dropped) is the one chosen.
    page = ('<ol class="comment-list"><li class="comment" id="comment-5"><article itemprop="comment" '
            'itemscope itemtype="https://schema.org/Comment"><span class="comment-author-name" '
            'itemprop="name">Kai</span><div class="comment-content" itemprop="text"><p>Gut.</p></div>'
            '</article></li></ol>')
    assert detect_document(Document(page)) == "wordpress"
    [c] = extractor_for("wordpress")(Document(page))
    assert (c.external_id, c.author, c.text) == ("5", "Kai", "Gut.")


def test_an_unknown_theme_with_schema_org_comments_is_read_by_the_page_collector():
    doc = load("schema_microdata_de.html")
    ids = [c.external_id for c in extractor_for("wpdiscuz")(doc)]  # the HTML collector's reader
    assert ids == ["77120", "77125", "77131"]


def test_schema_org_comments_without_a_number_keep_the_same_id_between_passes():
    page = ('<div itemscope itemtype="https://schema.org/Comment"><span itemprop="author">Ole</span>'
            '<p itemprop="text">Ohne Nummer.</p></div>')
    first = extractor_for("schema")(Document(page))
    again = extractor_for("schema")(Document("<p>Neu oben</p>" + page))
    assert [c.text for c in first] == ["Ohne Nummer."]
    assert first[0].external_id == again[0].external_id


# --- fuzzing ---------------------------------------------------------------------------------------

_JUNK = ["<", ">", "</div>", "</li></ol>", "<li id='comment-9'>", "\x00", "&#0;", "&", '"', "'",
         "<![CDATA[", "<!--", "<script>", "</script>", "{", "]", "<?xml version='1.0' encoding='utf-8'?>",
         "<a href='http://[oops/'>x</a>", "<time datetime='2024-13-45T99:99'>", "\ufeff", "\u202e"]


def variants(text: str, seed: str) -> list[str]:
    """Cut-off copies (a save interrupted) and copies with pieces removed, repeated or junk inserted."""
    rng = random.Random(seed)
    cuts = [text[:n] for n in sorted({0, 1, 7, 64, len(text) // 4, len(text) // 2, (3 * len(text)) // 4,
                                      len(text) - 2})]
    mangled = []
    for _ in range(12):
        chars = list(text)
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(max(len(chars), 1))
            roll = rng.random()
            if roll < 0.35:
                del chars[i:i + rng.randint(1, 60)]
            elif roll < 0.7:
                chars.insert(i, rng.choice(_JUNK))
            else:
                start = rng.randrange(max(len(chars), 1))
                chars[i:i] = chars[start:start + rng.randint(1, 80)]
        mangled.append("".join(chars))
    return cuts + mangled


FUZZED = sorted(p.name for p in FIXTURES.iterdir() if p.suffix in (".html", ".xml", ".json"))


@pytest.mark.parametrize("name", FUZZED)
def test_mangled_and_truncated_copies_never_crash_the_readers(name):
    text = decode_body((FIXTURES / name).read_bytes())
    outcomes = set()
    for variant in variants(text, name):
        doc = Document(variant)
        try:
            platform = detect_document(doc)
            if platform == "css":
                continue
            comments = extractor_for(platform)(doc)
        except ExtractError:
            outcomes.add("reported")  # the one failure a user may see: it says what to do
            continue
        for c in comments:
            assert isinstance(c.external_id, str) and c.external_id
            assert isinstance(c.text, str)
            c.to_json()  # what `monitor extract` prints must serialise
        outcomes.add("read")
    if not name.endswith(".json"):  # a mangled JSON file is simply not JSON any more
        assert "read" in outcomes  # markup is repaired: damaged copies still give comments


@pytest.mark.parametrize("name", ["wp_twentytwenty_de.html", "wpdiscuz5_de.html", "blogger_avatar_dl_de.html"])
def test_the_page_collectors_reader_survives_mangled_copies(name):
    from monitor.collect.wordpress_html import extract

    text = decode_body((FIXTURES / name).read_bytes())
    for variant in variants(text, "page-" + name):
        assert isinstance(extract(Document(variant)), list)


_ODD_VALUES = [None, 0, 1.5, True, [], {}, "", [1], {"$t": 5}, "2024-99-99", 10**20]


def _reshape(value, rng):
    """The same JSON with some values swapped for ones of the wrong type (null, number, list …)."""
    if isinstance(value, dict):
        return {k: rng.choice(_ODD_VALUES) if rng.random() < 0.15 else _reshape(v, rng) for k, v in value.items()}
    if isinstance(value, list):
        return [rng.choice(_ODD_VALUES) if rng.random() < 0.1 else _reshape(v, rng) for v in value]
    return value


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.json")))
def test_api_responses_with_values_of_the_wrong_type_never_crash_the_readers(name):
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    read = 0
    for seed in range(60):
        doc = Document(json.dumps(_reshape(data, random.Random(seed))))
        try:
            comments = extractor_for(detect_document(doc))(doc)
        except ExtractError:
            continue
        read += len(comments)
        for c in comments:
            c.to_json()
    assert read > 0  # items of the expected shape are still read
