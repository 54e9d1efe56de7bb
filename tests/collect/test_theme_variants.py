"""WordPress core comment markup as common themes print it (Astra, Divi, Genesis, Kubrick, Twenty Ten)."""

from __future__ import annotations

from monitor.collect.markup import Document
from monitor.collect.wordpress_html import extract

ASTRA = """<ol class="ast-comment-list">
<li class="comment even thread-even depth-1" id="li-comment-21"><article id="comment-21" class="ast-comment">
 <div class="ast-comment-info"><div class="ast-comment-avatar-wrap"><img class="avatar" src="a.png"></div>
 <div class="ast-comment-data-wrap"><div class="ast-comment-meta-wrap"><header class="ast-comment-meta ast-row ast-comment-author vcard capitalize">
  <div class="ast-comment-cite-wrap"><cite><b class="fn">Lotte</b></cite></div>
  <div class="ast-comment-time"><span class="timendate"><a href="https://site.example/a/#comment-21"><time datetime="2022-09-01T18:00:00+02:00">1. September 2022 um 18:00 Uhr</time></a></span></div>
 </header></div></div></div>
 <section class="ast-comment-content comment"><p>Sehr informativ, danke.</p>
  <div class="ast-comment-edit-reply-wrap"><span class="ast-reply-link"><a class="comment-reply-link" href="#">Antworten</a></span></div></section>
</article>
<ol class="children"><li class="comment odd alt depth-2" id="li-comment-22"><article id="comment-22" class="ast-comment">
 <header class="ast-comment-meta ast-comment-author vcard"><div class="ast-comment-cite-wrap"><cite><b class="fn">Jan</b></cite></div>
 <div class="ast-comment-time"><a href="#comment-22"><time datetime="2022-09-02T08:30:00+02:00">2. September 2022</time></a></div></header>
 <section class="ast-comment-content comment"><p>Sehe ich anders.</p></section>
</article></li></ol></li></ol>"""

DIVI = """<ol class="commentlist clearfix">
<li class="comment even thread-even depth-1" id="li-comment-301"><article id="comment-301" class="comment-body clearfix">
 <div class="comment_avatar"><img class="avatar" alt="Harriet" src="a.png"></div>
 <div class="comment_postinfo"><span class="fn">Harriet</span><span class="comment_date">on 4 March 2021 at 10:12 pm</span></div>
 <div class="comment_area"><div class="comment-content clearfix"><p>Great write-up.</p>
  <span class="reply-container"><a class="comment-reply-link" href="#">Reply</a></span></div></div>
</article></li></ol>"""

GENESIS = """<ol class="comment-list">
<li class="comment even thread-even depth-1" id="comment-77"><article id="article-comment-77" itemprop="comment" itemscope itemtype="https://schema.org/Comment">
 <header class="comment-header"><p class="comment-author" itemprop="author"><img class="avatar" src="a.png">
  <span class="comment-author-name" itemprop="name">Dev Patel</span> <span class="says">says</span></p>
  <p class="comment-meta"><time class="comment-time" datetime="2020-01-05T09:00:00+00:00" itemprop="datePublished"><a class="comment-time-link" href="#comment-77">January 5, 2020 at 9:00 am</a></time></p></header>
 <div class="comment-content" itemprop="text"><p>Thanks, this fixed it for me.</p></div>
 <div class="comment-reply"><a class="comment-reply-link" href="#">Reply</a></div>
</article></li>
<li class="pingback even thread-odd depth-1" id="comment-78"><article id="article-comment-78">
 <p class="comment-author">Pingback: <a href="https://elsewhere.example/">A linking post</a></p></article></li>
</ol>"""

KUBRICK = """<ol class="commentlist">
<li class="alt" id="comment-9"><cite>Marek</cite> Says:<br />
<small class="commentmetadata"><a href="#comment-9" title="">March 3rd, 2009 at 10:12 am</a></small>
<p>Old theme, still works.</p></li>
<li id="comment-10"><cite><a href="http://h.example" rel="external nofollow">Hilde</a></cite> Says:<br />
<small class="commentmetadata"><a href="#comment-10">vor 15 Jahren</a></small>
<p>Stimmt.</p></li></ol>"""

TWENTY_TEN = """<ol class="commentlist">
<li class="comment even thread-even depth-1" id="li-comment-5"><div id="comment-5">
 <div class="comment-author vcard"><img class="avatar" src="a.png"><cite class="fn">Sam</cite> <span class="says">says:</span></div>
 <div class="comment-meta commentmetadata"><a href="#comment-5">June 2, 2015 at 3:04 pm</a> <a class="comment-edit-link" href="#">(Edit)</a></div>
 <div class="comment-body"><p>Nice photos of the coast.</p></div>
 <div class="reply"><a class="comment-reply-link" href="#">Reply</a></div>
</div></li>
<li class="post pingback"><p>Pingback: <a href="https://elsewhere.example/">Elsewhere</a> <a class="comment-edit-link" href="#">(Edit)</a></p></li>
</ol>"""


def run(html: str):
    return {c.external_id: c for c in extract(Document(f"<html><body><div id='comments'>{html}</div></body></html>",
                                                       url="https://site.example/a/"))}


def test_astra():
    comments = run(ASTRA)
    assert set(comments) == {"21", "22"}
    assert comments["21"].author == "Lotte" and comments["21"].text == "Sehr informativ, danke."
    assert comments["22"].parent_external_id == "21"
    assert comments["21"].published_at.isoformat() == "2022-09-01T18:00:00+02:00"


def test_divi_text_date_and_no_reply_link():
    comments = run(DIVI)
    assert comments["301"].author == "Harriet"
    assert comments["301"].text == "Great write-up."
    assert comments["301"].published_at.isoformat() == "2021-03-04T22:12:00+00:00"


def test_genesis_skips_pingbacks():
    comments = run(GENESIS)
    assert list(comments) == ["77"]
    assert comments["77"].author == "Dev Patel" and comments["77"].text == "Thanks, this fixed it for me."
    assert comments["77"].published_at.isoformat() == "2020-01-05T09:00:00+00:00"


def test_kubrick_era_markup():
    comments = run(KUBRICK)
    assert comments["9"].author == "Marek" and comments["9"].text == "Old theme, still works."
    assert comments["9"].published_at.isoformat() == "2009-03-03T10:12:00+00:00"
    assert comments["10"].author == "Hilde" and comments["10"].published_at is None


def test_twenty_ten():
    comments = run(TWENTY_TEN)
    assert list(comments) == ["5"]
    assert comments["5"].author == "Sam" and comments["5"].text == "Nice photos of the coast."
    assert comments["5"].published_at.isoformat() == "2015-06-02T15:04:00+00:00"


ID_ON_ARTICLE = """<ol class="comment-list">
<li class="comment depth-1"><article id="comment-40" class="comment-body">
 <span class="fn">Ina</span><div class="comment-content"><p>Oben.</p></div></article>
 <ol class="children"><li class="comment depth-2"><article id="comment-41" class="comment-body">
  <span class="fn">Olaf</span><div class="comment-content"><p>Darunter.</p></div></article></li></ol>
</li></ol>"""


def test_id_on_the_article_inside_an_id_less_li_keeps_the_thread():
    comments = run(ID_ON_ARTICLE)
    assert comments["41"].parent_external_id == "40"
    assert comments["40"].text == "Oben." and comments["41"].author == "Olaf"
