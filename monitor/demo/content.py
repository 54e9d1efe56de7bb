"""The demo's script: three blogs, their posts, and the timed comments the demo site releases.

All text here is invented for the demo. Comments with `at_s <= 0` are on the site when it starts
(published that many seconds earlier); the rest appear `at_s` seconds after start. Roughly two in
five are abusive, several use coined slurs (NATOD, Natostan, Putler, Ruzzland, EUdSSR, Natoisten,
укронацисты, рашисты, натофашисты, гейропа), and they take sides for and against NATO and Russia,
so that scores, aggregates and the demo alert all have something to show within a minute.
Posts are about a minute old at start because the collector re-checks an article after
max(interval, age / 8): young threads are re-read every few seconds, as a real breaking story is.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BLOGS", "COMMENTS", "POSTS", "Blog", "Post", "ScriptedComment", "comments_for", "post_by_key"]


@dataclass(frozen=True)
class Blog:
    """One demo site; `platform` is the sources.toml platform its collector uses."""

    key: str
    platform: str
    title: str
    lang: str
    utc_offset_h: int  # the blog's local time, as its platform prints it


@dataclass(frozen=True)
class Post:
    """An article on a demo blog; `number` is its id on the platform."""

    key: str
    blog: str
    number: int
    slug: str
    title: str
    body: str
    age_s: int  # published this many seconds before the demo starts


@dataclass(frozen=True)
class ScriptedComment:
    """A comment released `at_s` seconds after start; `cid` is unique across the script."""

    cid: int
    post: str
    at_s: int
    author: str
    text: str
    toxic: bool = False  # the author's intent, for checking the script's mix; scores come from the models
    parent: int | None = None


BLOGS: dict[str, Blog] = {
    "rest": Blog("rest", "wordpress", "Tagesdebatte – Meinungen zur Weltlage", "de", 1),
    "wpdiscuz": Blog("wpdiscuz", "wpdiscuz", "The Frontline Forum", "en", 0),
    "blogger": Blog("blogger", "blogger", "Взгляд из провинции", "ru", 3),
}

POSTS: tuple[Post, ...] = (
    Post("rest-1", "rest", 412, "nato-brigade-litauen", "Neue Brigade in Litauen: Schutz oder Provokation?",
         "Ab nächstem Jahr sollen dauerhaft deutsche Soldaten an der Ostflanke stehen. Was bedeutet das "
         "für die Sicherheit im Baltikum – und für das Verhältnis zu Moskau?", 58),
    Post("rest-2", "rest", 415, "gaspreise-sanktionen", "Gaspreise und Sanktionen: Wer zahlt die Rechnung?",
         "Die Heizkosten bleiben hoch. Wir haben Leserinnen und Leser gefragt, wie sie über die "
         "Sanktionen gegen Russland denken.", 57),
    Post("wpd-1", "wpdiscuz", 88, "finland-sweden-one-year-in", "Finland and Sweden one year in: is the alliance stronger?",
         "Two new members have changed the map of the Baltic Sea. Our correspondent looks at what has "
         "changed on the ground, from Gotland to the Finnish border.", 60),
    Post("wpd-2", "wpdiscuz", 91, "kremlin-ceasefire-talk", "The Kremlin talks ceasefire while the shelling goes on",
         "Moscow signals openness to a truce along the current front line. Kyiv and its partners are "
         "sceptical. What would a freeze mean?", 56),
    Post("blg-1", "blogger", 5301, "nato-na-vostok", "Расширение НАТО на восток: кто кого обманул?",
         "Спор об обещаниях девяностых не утихает. Разбираемся, что на самом деле было сказано и "
         "записано, и почему это важно сегодня.", 59),
    Post("blg-2", "blogger", 5302, "sankcii-i-ceny", "Санкции и цены: как живут люди в регионах",
         "Мы поговорили с жителями трёх областей о ценах на лекарства, продукты и бензин.", 55),
)

_C = ScriptedComment

COMMENTS: tuple[ScriptedComment, ...] = (
    # --- Tagesdebatte (WordPress REST, German) ----------------------------------------------------
    _C(1, "rest-1", -47, "Klaus_Berger",
       "Endlich übernimmt Deutschland Verantwortung an der Ostflanke. Die Balten haben allen Grund, "
       "der NATO dankbar zu sein."),
    _C(2, "rest-1", -38, "friedenstaube63",
       "Noch mehr Soldaten an die russische Grenze – so provoziert man den nächsten Krieg. Die NATO "
       "ist längst kein Verteidigungsbündnis mehr."),
    _C(3, "rest-1", -28, "Wahrheitssucher",
       "Die NATOD-Kriegstreiber wollen uns alle verheizen. Wer das gut findet, ist ein hirnloser "
       "Schwachkopf!", toxic=True),
    _C(4, "rest-1", -19, "Klaus_Berger",
       "Mit Beleidigungen überzeugen Sie hier niemanden. Haben Sie auch ein Argument?", parent=3),
    _C(5, "rest-1", -9, "M. Lindner",
       "Litauen hat erlebt, was Moskau unter guter Nachbarschaft versteht. Ich verstehe jeden, der "
       "dort Schutz sucht."),
    _C(6, "rest-1", 3, "Ostfront_Olaf",
       "Natostan befiehlt, Berlin gehorcht. Ihr seid doch alle nur dressierte Pudel, ihr erbärmlichen "
       "Witzfiguren!", toxic=True),
    _C(7, "rest-1", 12, "Petra K.",
       "Putler hört erst auf, wenn man ihm Grenzen setzt. Genau dafür ist die Brigade da."),
    _C(8, "rest-1", 24, "Wahrheitssucher",
       "Halt die Klappe, du verblödete Transatlantiker-Tante. Geh doch selbst an die Front, du "
       "Witzfigur!", toxic=True, parent=7),
    _C(9, "rest-1", 40, "Jens aus Kiel",
       "Ich war selbst Zeitsoldat. Abschreckung funktioniert nur, wenn sie glaubwürdig ist – mit "
       "Kriegstreiberei hat das nichts zu tun."),
    _C(10, "rest-1", 60, "Bürger1975",
       "Die EUdSSR und ihre NATO-Lakaien ruinieren dieses Land. Widerliches Pack, alle miteinander!",
       toxic=True),
    _C(11, "rest-1", 85, "Anna_S",
       "Kann man hier eigentlich noch sachlich diskutieren? Die Frage nach den Kosten ist berechtigt, "
       "die Brüllerei nicht."),
    _C(12, "rest-1", 110, "Ostfront_Olaf",
       "Russland hat nie jemanden bedroht. Die Ruzzland-Hetze in den Medien ist einfach nur lächerlich."),
    _C(13, "rest-1", 130, "Ohio_Dave",
       "Greetings from Ohio. Say what you want, but NATO is the best deal America ever made."),
    _C(14, "rest-1", 150, "Jens aus Kiel",
       "Fragen Sie mal in Butscha nach, ob Russland jemanden bedroht hat.", parent=12),
    _C(15, "rest-2", -53, "Heizkosten_Heinz",
       "Meine Nebenkostenabrechnung hat sich verdoppelt. Kann mir jemand erklären, wem diese "
       "Sanktionen eigentlich schaden?"),
    _C(16, "rest-2", -31, "Dr. Weber",
       "Die Sanktionen wirken langsam, aber sie wirken: Russlands Rüstungsindustrie kommt kaum noch "
       "an westliche Chips."),
    _C(17, "rest-2", -13, "Michel_ungeschminkt",
       "Die Idioten in Berlin frieren lieber, als mit Russland zu reden. Dümmer geht's nicht, diese "
       "Vollpfosten!", toxic=True),
    _C(18, "rest-2", -4, "Sabine",
       "Billiges Gas ist nicht dasselbe wie Sicherheit. Die Abhängigkeit war der eigentliche Fehler."),
    _C(19, "rest-2", 6, "Russlandversteher_2",
       "Putin ist der einzige Staatsmann mit Rückgrat in Europa. Der Westen sollte sich bei Russland "
       "entschuldigen."),
    _C(20, "rest-2", 30, "Sabine",
       "Entschuldigen? Wofür – dafür, dass man sich nicht überfallen lassen will?", parent=19),
    _C(21, "rest-2", 50, "Michel_ungeschminkt",
       "Verpiss dich, du Kriegshetzerin. Euch Natoisten sollte man alle einsperren!", toxic=True,
       parent=20),
    _C(22, "rest-2", 75, "Heizkosten_Heinz",
       "Egal wer recht hat: Bitte eine Entlastung für Rentner, und zwar vor dem Winter."),
    _C(23, "rest-2", 100, "Bürger1975",
       "Kremlfaschisten hier, NATO-Huren da – dieses Forum ist ein einziger Sumpf aus Schwachköpfen.",
       toxic=True),
    _C(24, "rest-2", 135, "Dr. Weber",
       "Zur Einordnung: Der Großhandelspreis für Gas liegt inzwischen wieder deutlich unter dem "
       "Höchststand."),
    _C(25, "rest-2", 170, "Putinfreund88",
       "Die Russenhasser in der Redaktion lügen wie gedruckt. Eure Lügenpresse glaubt doch keiner "
       "mehr, ihr Schmierfinken!", toxic=True),
    _C(26, "rest-2", 240, "Anna_S",
       "Danke für den Artikel. Die Stimmen aus dem Erzgebirge fand ich besonders aufschlussreich."),

    # --- The Frontline Forum (wpDiscuz, English) ---------------------------------------------------
    _C(30, "wpd-1", -50, "nordic_watcher",
       "Finland joining was the most predictable outcome of the invasion. Moscow did more for NATO "
       "recruitment than any diplomat ever could."),
    _C(31, "wpd-1", -34, "RealistPaul",
       "Expansion was always going to be read as a threat in Russia. That doesn't justify a war, "
       "but it explains a lot."),
    _C(32, "wpd-1", -22, "TruthBomb77",
       "Natostan keeps swallowing countries like a tumour. Wake up, sheeple, these warmongering "
       "morons are leading you to the slaughter!", toxic=True),
    _C(33, "wpd-1", -8, "nordic_watcher",
       "Finland applied. Nobody was swallowed – people voted for it.", parent=32),
    _C(34, "wpd-1", 9, "ivan_the_honest",
       "Russia is only defending itself. Every honest person knows this alliance exists to encircle us."),
    _C(35, "wpd-1", 20, "mira_k",
       "Defending itself by shelling apartment blocks in Kharkiv? Spare us.", parent=34),
    _C(36, "wpd-1", 36, "TruthBomb77",
       "Shut up, you brainwashed clown. Go lick the boots of your NATO masters somewhere else, idiot.",
       toxic=True, parent=35),
    _C(37, "wpd-1", 55, "Gareth",
       "Genuinely curious: how much does Sweden's navy change the balance in the Baltic? Any good "
       "analysis out there?"),
    _C(38, "wpd-1", 80, "Kyiv_Hawk",
       "Ruzzia is a failed state run by a bunker dwarf. Those Putler-loving orcs are subhuman trash.",
       toxic=True),
    _C(39, "wpd-1", 105, "RealistPaul",
       "Both of you are proving that nobody here read the article."),
    _C(40, "wpd-1", 140, "ivan_the_honest",
       "NATO is a terrorist gang and its puppets in Helsinki are pathetic traitors.", toxic=True),
    _C(41, "wpd-1", 175, "mira_k",
       "Good piece. The section on Gotland was especially useful."),
    _C(42, "wpd-1", 200, "Наташа_из_Нарвы",
       "Живу в Эстонии, у самой границы. Честно скажу: с НАТО нам спокойнее."),
    _C(43, "wpd-2", -44, "diplomat_dan",
       "Any ceasefire that freezes the front line just gives the Kremlin time to rearm. We've seen "
       "this film since 2014."),
    _C(44, "wpd-2", -25, "peacenow",
       "People are dying every single day. I would take an imperfect ceasefire over another year of "
       "trenches."),
    _C(45, "wpd-2", -6, "Kyiv_Hawk",
       "Ruscists don't want peace, they want a pause to reload. Anyone who believes Lavrov is a "
       "gullible idiot.", toxic=True),
    _C(46, "wpd-2", 15, "BasedAmerican",
       "Why are we paying for this? Let Europe handle its own mess. Not our war."),
    _C(47, "wpd-2", 45, "peacenow",
       "Because the last time Europe's mess was ignored, it very much became America's war.", parent=46),
    _C(48, "wpd-2", 70, "Z_Warrior",
       "The Kremlin will win and the NATO cucks will cry. Keep coping, you pathetic losers.", toxic=True),
    _C(49, "wpd-2", 95, "diplomat_dan",
       "Reported for trolling.", parent=48),
    _C(50, "wpd-2", 125, "TruthBomb77",
       "Their leaders and NATO handlers are criminals. Lock them all up, the lying scumbags.", toxic=True),
    _C(51, "wpd-2", 160, "Gareth",
       "Does anyone have a source for the claim about the grain corridor? I can't find it."),
    _C(52, "wpd-2", 260, "peacenow",
       "Whatever happens, the prisoner exchanges should continue. That is one thing both sides still "
       "manage."),

    # --- Взгляд из провинции (Blogger, Russian) ----------------------------------------------------
    _C(60, "blg-1", -52, "Сергей_П",
       "НАТО обещало не расширяться на восток, а в итоге стоит у самых границ России. Понятно, "
       "почему в Москве нервничают."),
    _C(61, "blg-1", -41, "Ольга Миронова",
       "Никто ничего письменно не обещал. Страны Балтии сами выбрали, с кем им безопаснее."),
    _C(62, "blg-1", -27, "патриот_1987",
       "Натовские шавки опять лают. Укронацисты и их западные хозяева получат своё, мрази.", toxic=True),
    _C(63, "blg-1", -12, "Ольга Миронова",
       "Оскорбления — не аргумент. Давайте обсуждать факты.", parent=62),
    _C(64, "blg-1", 4, "Дмитрий К.",
       "Путин сам толкнул Финляндию в НАТО. Лучшей рекламы для альянса не придумаешь."),
    _C(65, "blg-1", 18, "патриот_1987",
       "Заткнись, либераст проклятый. Такие, как ты, продали страну гейропе, тварь.", toxic=True,
       parent=64),
    _C(66, "blg-1", 33, "Андрей",
       "Россия — великая страна, и никакое НАТО её не запугает. Мы за мир, но своих не бросаем."),
    _C(67, "blg-1", 58, "ВатникНеПройдёт",
       "Рашисты и их путлер — позор двадцать первого века. Вся эта орда тупых упырей должна сгнить.",
       toxic=True),
    _C(68, "blg-1", 82, "Сергей_П",
       "Давайте без этой грязи. Вопрос в том, как избежать большой войны, а не кто громче орёт."),
    _C(69, "blg-1", 115, "Кирилл",
       "Натофашисты из Брюсселя нас ненавидят, а вы им до сих пор верите, идиоты.", toxic=True),
    _C(70, "blg-1", 145, "Дмитрий К.",
       "Интересная статья, но не хватает карты с базами."),
    _C(71, "blg-2", -48, "Марина",
       "В нашем городе лекарства подорожали почти вдвое. Санкции бьют прежде всего по обычным людям."),
    _C(72, "blg-2", -30, "экономист_Лев",
       "Импортозамещение идёт медленно, но кое-где работает: местный сыр и правда стал лучше."),
    _C(73, "blg-2", -10, "Гоша",
       "Евросоюз давно превратился в ЕвроСССР. Тупые евробюрократы, чтоб вы подавились своими "
       "санкциями!", toxic=True),
    _C(74, "blg-2", 10, "Марина",
       "При чём тут Брюссель? Я пишу про цены на инсулин в аптеке.", parent=73),
    _C(75, "blg-2", 27, "Кирилл",
       "Кто ноет про санкции — предатель и пятая колонна. Валите в свою гейропу, твари.", toxic=True),
    _C(76, "blg-2", 48, "экономист_Лев",
       "По официальной статистике реальные зарплаты растут, но в регионах картина совсем другая."),
    _C(77, "blg-2", 66, "Андрей",
       "Запад хотел порвать экономику России в клочья, а она выстояла. Это просто факт."),
    _C(78, "blg-2", 90, "ВатникНеПройдёт",
       "Выстояла, ага. Расскажи это пенсионерам в Курганской области, ватник безмозглый.", toxic=True,
       parent=77),
    _C(79, "blg-2", 120, "Ольга Миронова",
       "Спасибо автору за честный текст без пропаганды с обеих сторон."),
    _C(80, "blg-2", 155, "патриот_1987",
       "Пиндосы и их натовские холуи подавятся собственными санкциями, ублюдки.", toxic=True),
    _C(81, "blg-2", 230, "Grüße_aus_Leipzig",
       "Ich lese hier mit Übersetzer mit. Bei uns in Sachsen klagen die Leute über genau dieselben "
       "Preise."),
)


def post_by_key(key: str) -> Post:
    """The post with this key; KeyError names the keys that exist."""
    for post in POSTS:
        if post.key == key:
            return post
    raise KeyError(f"no demo post {key!r}; known: {', '.join(p.key for p in POSTS)}")


def comments_for(post_key: str) -> list[ScriptedComment]:
    """The script's comments on one post, in release order."""
    return sorted((c for c in COMMENTS if c.post == post_key), key=lambda c: (c.at_s, c.cid))
