"""Extraction per platform on saved pages: counts, texts, authors, dates, threads; and `monitor extract`."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from monitor.collect.base import extractor_for
from monitor.collect.detect import detect_document
from monitor.collect.markup import Document, decode_body
from monitor.errors import ExtractError
from tests.conftest import make_config_dir
from tests.helpers import run_cli

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str, url: str | None = None) -> Document:
    return Document(decode_body((FIXTURES / name).read_bytes()), url=url)


def by_id(comments):
    return {c.external_id: c for c in comments}


def test_wordpress_html5_markup_threads_replies_and_keeps_offsets():
    doc = load("wp_html5.html")
    assert detect_document(doc) == "wordpress"
    comments = by_id(extractor_for("wordpress")(doc))
    assert list(comments) == ["1001", "1002", "1004", "1003"]
    assert comments["1002"].parent_external_id == "1001" and comments["1004"].parent_external_id == "1002"
    assert comments["1001"].parent_external_id is None and comments["1003"].parent_external_id is None
    assert comments["1001"].author == "Marta Lind"  # "says:" and the avatar are not the name
    first = comments["1001"].text
    assert first.startswith("Four sailings is better than I feared. Will the early one")
    assert first.endswith("Thanks for posting this 🙂")  # emoji images keep their character
    assert "Reply" not in first and "Edit" not in comments["1002"].text
    assert comments["1003"].text == "Prices went up again, of course."  # script dropped, spaces normalised
    assert comments["1001"].published_at == datetime(2024, 10, 3, 7, 15, 42, tzinfo=timezone.utc)
    assert comments["1004"].url == "https://harbour.example/2024/10/ferry-winter/#comment-1004"


def test_legacy_wordpress_markup_in_latin1_decodes_and_reads_german_dates():
    doc = load("wp_legacy_latin1.html")
    comments = by_id(extractor_for(detect_document(doc))(doc))
    assert set(comments) == {"51", "52", "53"}
    assert comments["51"].author == "Jürgen Weiß"
    assert comments["51"].text == ("Endlich! Die Kreuzung am Markt ist für Radfahrer gefährlich. "
                                   "Hoffentlich wird das zügig gebaut.")
    assert comments["53"].parent_external_id == "51" and comments["53"].author == "Grete"
    # "12. März 2019 um 14:05" on a German site is Berlin time (CET in March).
    assert comments["51"].published_at.isoformat() == "2019-03-12T14:05:00+01:00"
    assert comments["52"].published_at is None  # "vor 5 Jahren" is relative


def test_wpdiscuz_markup_with_threaded_reply_and_relative_dates():
    doc = load("wpdiscuz.html", url="https://kreisbote.example/2023/06/bruecke/")
    assert detect_document(doc) == "wpdiscuz"
    comments = by_id(extractor_for("wpdiscuz")(doc))
    assert list(comments) == ["3301", "3303", "3302", "3304"]
    assert comments["3303"].parent_external_id == "3301"
    assert comments["3303"].author == "Der alte Fährmann"
    assert comments["3303"].text == "Früher gab es hier eine Fähre. Die hat nie zwei Jahre Pause gemacht!"
    assert comments["3301"].text.startswith("Wieder ein Jahr Umleitung.")
    assert "Fähre" not in comments["3301"].text  # the nested reply is not part of its parent
    assert comments["3302"].text == "Wer hat das bloß genehmigt? Schon wieder Steuergeld versenkt."
    assert comments["3302"].published_at is None  # only "1 Jahr zuvor", no absolute time
    assert comments["3301"].published_at.isoformat() == "2023-06-14T18:42:00+02:00"
    assert comments["3304"].author == "Redaktion"
    assert comments["3304"].url == "https://kreisbote.example/2023/06/bruecke/#comment-3304"


def test_blogger_threaded_markup_uses_the_permalink_timestamp():
    doc = load("blogger_threaded.html")
    assert detect_document(doc) == "blogger"
    comments = by_id(extractor_for("blogger")(doc))
    assert list(comments) == ["4410001", "4410003", "4410002"]
    assert comments["4410003"].parent_external_id == "4410001"
    assert comments["4410001"].author == "Ellen Hartley"
    assert comments["4410001"].text == ("Same here in the lower valley. We covered the young trees but "
                                        "it was not enough.")
    assert comments["4410002"].text == "Insurance will not cover it & prices will rise."
    assert comments["4410001"].published_at == datetime(2015, 6, 12, 9, 21, tzinfo=timezone.utc)


def test_blogger_classic_comment_block():
    doc = load("blogger_classic.html")
    comments = extractor_for(detect_document(doc))(doc)
    assert [(c.external_id, c.author) for c in comments] == [("900101", "Rosa"), ("900102", "Anonymous")]
    assert comments[0].text == "We turned back at the second bend. Chains were useless."
    assert comments[1].published_at == datetime(2012, 1, 19, 5, 13, 20, tzinfo=timezone.utc)


def test_blogger_json_feed_gives_parents_and_offsets():
    doc = load("blogger_comments.json")
    assert detect_document(doc) == "blogger"
    comments = by_id(extractor_for("blogger")(doc))
    assert comments["4410003"].parent_external_id == "4410001"
    assert comments["4410002"].text == "Insurance will not cover it & prices will rise."
    assert comments["4410001"].published_at.isoformat() == "2015-06-12T10:21:00+01:00"


def test_wordpress_rest_json_dates_are_utc():
    doc = load("wp_comments.json")
    assert detect_document(doc) == "wordpress"
    comments = by_id(extractor_for("wordpress")(doc))
    assert comments["7702"].parent_external_id == "7701"
    assert comments["7702"].text == "Yes – it stays & runs daily."
    assert comments["7705"].author == "Ян" and comments["7705"].text == "Паром опять опаздывает."
    assert comments["7701"].published_at.isoformat() == "2024-10-03T07:15:42+00:00"


def test_disqus_api_response():
    doc = load("disqus_listposts.json")
    assert detect_document(doc) == "disqus"
    comments = by_id(extractor_for("disqus")(doc))
    assert comments["5120007"].parent_external_id == "5120001"
    assert comments["5120001"].text == "This is the news I was dreading. Stay safe everyone."
    assert comments["5120011"].text == "Guest comment with markup only."  # from HTML when raw is empty
    assert comments["5120001"].published_at.isoformat() == "2022-02-24T06:10:00+00:00"


def test_rss_comment_feed():
    doc = load("comments_rss.xml")
    assert detect_document(doc) == "feed"
    comments = by_id(extractor_for("feed")(doc))
    assert set(comments) == {"3301", "3304"}
    assert comments["3301"].author == "hanne"
    assert comments["3301"].text == "Wieder ein Jahr Umleitung. Die Planer sollten selbst einmal im Stau stehen."
    assert comments["3301"].published_at == datetime(2023, 6, 14, 16, 42, tzinfo=timezone.utc)


def test_css_selectors_for_a_custom_site():
    doc = load("custom_css.html")
    selectors = {"comment": ".talk-item", "id": "@data-cid", "author": ".who", "text": ".said",
                 "date": ".when@data-ts"}
    comments = by_id(extractor_for("css")(doc, selectors))
    assert list(comments) == ["t-1", "t-2", "t-3"]
    assert comments["t-2"].parent_external_id == "t-1"
    assert comments["t-1"].text == "Das sehe ich genauso."  # the nested reply's text is not included
    assert comments["t-3"].text == "Kurz und knapp." and comments["t-3"].published_at is None
    assert comments["t-1"].url == "https://tageszeitung.example/politik/artikel-77.html"


def test_truncated_html_yields_the_comments_before_the_cut():
    raw = (FIXTURES / "wp_html5.html").read_text(encoding="utf-8")
    cut = raw[: raw.index("Prices")]  # ends inside the last comment's paragraph
    comments = by_id(extractor_for("wordpress")(Document(cut)))
    assert {"1001", "1002", "1004"} <= set(comments)
    assert comments["1004"].text == "Good news for commuters."


def test_page_without_comment_markup_is_reported():
    with pytest.raises(ExtractError, match="no known comment markup"):
        detect_document(Document("<html><body><p>Just an article.</p></body></html>"))


def test_extract_command_prints_json_lines(capsys):
    code, out, err = run_cli(capsys, "extract", str(FIXTURES / "wpdiscuz.html"))
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 4
    assert set(lines[0]) == {"external_id", "parent_id", "author", "text", "published_at", "url"}
    assert lines[1]["parent_id"] == "3301" and lines[2]["published_at"] is None


def test_extract_command_reads_a_css_source_s_selectors_from_the_config(tmp_path, capsys):
    config = make_config_dir(tmp_path, sources=(
        '[[source]]\nname = "zeitung"\nurl = "https://tageszeitung.example/"\nplatform = "css"\n'
        'selectors = { comment = ".talk-item", id = "@data-cid", author = ".who", text = ".said" }\n'))
    code, out, err = run_cli(capsys, "--config", str(config), "extract", str(FIXTURES / "custom_css.html"),
                             "--source-name", "zeitung")
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(c["external_id"], c["parent_id"]) for c in lines] == [("t-1", None), ("t-2", "t-1"), ("t-3", None)]


def test_extract_command_escapes_terminal_controls(tmp_path, capsys):
    page = tmp_path / "evil.html"
    page.write_text('<ol class="comment-list"><li id="comment-9" class="comment"><b class="fn">x</b>'
                    '<div class="comment-content"><p>hi\u202e there\u009b</p></div></li></ol>',
                    encoding="utf-8")
    code, out, _ = run_cli(capsys, "extract", str(page), "--platform", "wordpress")
    assert code == 0
    assert "\u202e" not in out and "\u009b" not in out
    assert json.loads(out)["text"] == "hi\u202e there\u009b"  # the data itself is unchanged


def test_extract_command_missing_file_says_what_to_give(capsys):
    code, _, err = run_cli(capsys, "extract", "/nonexistent/page.html")
    assert code == 1 and "no such file" in err
