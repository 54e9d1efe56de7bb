"""Mixed comment-like texts for the scoring equivalence fixture, written for this test.

Combines short German, English and Russian phrases (polite, rude, political, obfuscated, with
slurs and target names, URLs and @mentions) deterministically, so the list is the same on
every run without shipping it twice.
"""

from __future__ import annotations

import random

_PHRASES = [
    "Danke für die ausführliche Recherche, sehr lesenswert.",
    "Die NATO sollte endlich aufhören, an der Grenze zu zündeln.",
    "Putin ist ein Kriegsverbrecher und gehört vor Gericht.",
    "Was für ein hirnloser Kommentar, du Vollpfosten.",
    "Die Natoschergen lügen doch wie gedruckt.",
    "Russland hat diesen Krieg angefangen, das ist Fakt.",
    "Ich finde, die Bundesregierung macht das ganz ordentlich.",
    "Halt die Fresse, du Idiot!!!",
    "Der Kreml verbreitet seit Jahren Propaganda.",
    "Die Orks haben wieder Zivilisten beschossen.",
    "Im Tolkien-Roman kämpfen Orks gegen Elfen und Zwerge.",
    "Putler und seine Russenbrut gehören weg.",
    "N4T0 raus aus Europa!",
    "Das Bündnis schützt uns seit Jahrzehnten.",
    "Slava Ukraini, die Verteidiger sind Helden.",
    "Thanks for the thoughtful piece, I learned a lot.",
    "NATO expansion provoked all of this, wake up.",
    "You are a pathetic moron and nobody cares.",
    "The Kremlin lies about everything, as usual.",
    "Russia must withdraw its troops immediately.",
    "What a stupid take, go back to school, idiot.",
    "The alliance has kept Europe safe for decades.",
    "Those ruscists deserve nothing but contempt.",
    "P.u.t.i.n is a war criminal, plain and simple.",
    "I disagree, but I appreciate the balanced reporting.",
    "Kill them all, they are vermin!",
    "Moscow will never admit what happened there.",
    "The Western alliance is weaker than people think.",
    "Спасибо за статью, очень интересно.",
    "НАТО опять лезет туда, куда не просят.",
    "Путин должен ответить за эту войну.",
    "Ты жалкий дебил, иди отсюда.",
    "Рашисты опять обстреляли город.",
    "Кремль врёт, как всегда.",
    "Россия сильная страна, и это правда.",
    "Заткнись уже, идиот.",
    "Альянс никому не угрожает.",
    "Хорошая работа, спасибо журналистам.",
    "ok",
    "!!!",
    "lol 😂😂😂",
    "D1e N@zis sind w1eder da",
    "Sehr geehrte Redaktion, bitte mehr Hintergrund zu den Verhandlungen.",
    "|LBR| neue Zeile |LBR| noch eine",
    "#Frieden #jetzt",
    "Moskau und Berlin reden wieder miteinander, gut so.",
    "Die EU muss geschlossen bleiben.",
    "Stoltenberg hat das schon 2014 gesagt.",
    "ruzzia will lose, the orcs are running",
    "Das ist einfach nur Müll, was ihr hier schreibt.",
]
_EXTRAS = ["", " @redakteur", " https://example.org/artikel?id=5", " www.example.net/x",
           " 🙂", "  ", "\n\nGruß", " !!!", " ...", " #news"]


def equivalence_texts(n: int = 320, seed: int = 14) -> list[str]:
    """`n` texts of one to five phrases each, some with furniture, from a fixed seed."""
    rng = random.Random(seed)
    out = list(_PHRASES)
    while len(out) < n:
        parts = rng.sample(_PHRASES, rng.randint(1, 5))
        text = " ".join(parts) + rng.choice(_EXTRAS)
        if rng.random() < 0.15:
            text = text.upper()
        if rng.random() < 0.1:
            text = text.replace("a", "4").replace("e", "3")
        out.append(text)
    return out[:n]
