"""`monitor review`'s terminal app (Textual): the verdict queue and the sources → articles →
comments drill-down. Every comment-derived string passes monitor.text and is built as rich Text,
never parsed as markup."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from rich.text import Text
from sqlalchemy import Engine
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static, Tree

from monitor.errors import MonitorError
from monitor.review.queue import REASONS, QueueItem, comment_items
from monitor.store.verdicts import Verdict, latest_verdicts, record_verdicts
from monitor.text import one_line, terminal_safe, truncate

__all__ = ["BrowseScreen", "ReviewApp", "ReviewScreen", "render_card"]

_STANCE_KEYS = {"f": "favor", "a": "against", "o": "none"}
_LINK_SCHEMES = ("http://", "https://")


@dataclass
class Selection:
    """Which target a stance key and which term a slur key apply to."""

    target: int = 0
    slur: int = 0
    recorded: dict[str, str] = field(default_factory=dict)  # kind -> "who: value", standing


def _slur_terms(item: QueueItem) -> list[tuple[str, str, str, str]]:
    seen: dict[str, tuple[str, str, str, str]] = {}
    for slur in item.slurs:
        seen.setdefault(slur[1], slur)
    return list(seen.values())


def _score_style(toxicity: float | None, threshold: float) -> str:
    if toxicity is None:
        return "dim"
    return "bold red" if toxicity >= threshold else "yellow" if toxicity >= threshold - 0.1 else "green"


def render_card(item: QueueItem, targets: Sequence[str], selection: Selection, *,
                threshold: float, position: str = "") -> Text:
    """The comment's header, scores and verdicts so far, as plain rich Text (no markup parsing)."""
    out = Text()
    if position:
        out.append(position + "  ", "bold")
    out.append(f"#{item.comment_id} ", "dim")
    out.append(one_line(item.source), "bold cyan")
    out.append(" · ")
    out.append(truncate(one_line(item.article_title or "(untitled article)"), 100), "italic")
    out.append("\n")
    out.append(truncate(one_line(item.link), 200), "underline blue")
    if item.published_at is not None:
        out.append(f"  {item.published_at:%Y-%m-%d %H:%M} UTC", "dim")
    out.append("\n")
    for reason in item.reasons:
        out.append(f"why: {REASONS.get(reason, reason)}\n", "magenta")
    out.append("toxicity ")
    shown = "unscored" if item.toxicity is None else f"{item.toxicity:.2f}"
    out.append(shown, _score_style(item.toxicity, threshold))
    out.append(f" (threshold {threshold:.2f}, lang {one_line(item.lang or '?')})")
    _verdict_note(out, selection.recorded.get("toxicity"))
    out.append("\nstance  ")
    for n, target in enumerate(targets):
        marker = "▸" if n == selection.target else " "
        out.append(f"{marker}[{n + 1}] {target}: ", "bold" if n == selection.target else "")
        out.append(item.stance.get(target, "-"))
        _verdict_note(out, selection.recorded.get(f"stance:{target}"))
        out.append("  ")
    terms = _slur_terms(item)
    out.append("\nslurs   ")
    if not terms:
        out.append("none found", "dim")
    for n, (term, normalized, target, kind) in enumerate(terms):
        marker = "▸" if n == selection.slur else " "
        out.append(f"{marker}{truncate(one_line(term), 40)}", "bold" if n == selection.slur else "")
        out.append(f" → {one_line(target)} ({one_line(kind)})")
        _verdict_note(out, selection.recorded.get(f"slur:{normalized}"))
        out.append("  ")
    return out


def _verdict_note(out: Text, standing: str | None) -> None:
    if standing is not None:
        out.append(f" ✓ {standing}", "bold green")


def _comment_text(item: QueueItem) -> Text:
    return Text(terminal_safe(item.text))


class ReviewScreen(Screen[None]):
    """One comment at a time; a key records a verdict at once (its own transaction)."""

    BINDINGS = [
        Binding("t", "toxicity('toxic')", "toxic"),
        Binding("n", "toxicity('not')", "not toxic"),
        Binding("f", "stance('favor')", "favor"),
        Binding("a", "stance('against')", "against"),
        Binding("o", "stance('none')", "no stance"),
        Binding("y", "slur('yes')", "slur"),
        Binding("x", "slur('no')", "not a slur"),
        Binding("s", "next_slur", "next term", show=False),
        Binding("j,right,space", "move(1)", "next"),
        Binding("k,left", "move(-1)", "previous"),
        Binding("l", "open_link", "open link", show=False),
        Binding("b", "browse", "browse"),
        Binding("escape", "leave", "back", show=False),
        Binding("q", "app.quit", "quit"),
    ]

    def __init__(self, items: Sequence[QueueItem], *, title: str = "review queue") -> None:
        super().__init__()
        self.items = list(items)
        self.index = 0
        self.queue_title = title
        self.selection = Selection()

    @property
    def review_app(self) -> ReviewApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static(id="card", markup=False)
        with VerticalScroll(id="body"):
            yield Static(id="text", markup=False)
        yield Static(id="status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self._show()

    @property
    def current(self) -> QueueItem | None:
        return self.items[self.index] if self.items else None

    def _show(self) -> None:
        item = self.current
        card = self.query_one("#card", Static)
        body = self.query_one("#text", Static)
        if item is None:
            card.update(Text(f"{self.queue_title}: nothing to review. Press b to browse, q to quit."))
            body.update(Text(""))
            return
        self.selection.recorded = self.review_app.recorded_for(item.comment_id)
        position = f"{self.queue_title} {self.index + 1}/{len(self.items)}"
        card.update(render_card(item, self.review_app.targets, self.selection,
                                threshold=self.review_app.threshold, position=position))
        body.update(_comment_text(item))

    def _status(self, message: str) -> None:
        self.query_one("#status", Static).update(Text(message))

    def _record(self, kind: str, value: str) -> None:
        item = self.current
        if item is None:
            return
        try:
            self.review_app.record(item.comment_id, kind, value)
        except MonitorError as exc:
            self._status(f"not recorded: {terminal_safe(str(exc))}")
            return
        self._status(f"recorded {kind} = {value} for #{item.comment_id}")
        self._show()

    def action_toxicity(self, value: str) -> None:
        self._record("toxicity", value)

    def action_stance(self, value: str) -> None:
        targets = self.review_app.targets
        if targets:
            self._record(f"stance:{targets[self.selection.target]}", value)

    def action_slur(self, value: str) -> None:
        item = self.current
        terms = _slur_terms(item) if item else []
        if not terms:
            self._status("this comment has no slur to judge")
            return
        self._record(f"slur:{terms[min(self.selection.slur, len(terms) - 1)][1]}", value)

    def action_next_slur(self) -> None:
        item = self.current
        terms = _slur_terms(item) if item else []
        if terms:
            self.selection.slur = (self.selection.slur + 1) % len(terms)
            self._show()

    def on_key(self, event: Any) -> None:
        # Digits 1-9 pick the stance target the f/a/o keys apply to.
        if event.character and event.character in "123456789":
            digit = int(event.character)
            if digit <= len(self.review_app.targets):
                self.selection.target = digit - 1
                self._show()
            event.stop()

    def action_move(self, step: int) -> None:
        if self.items:
            self.index = max(0, min(len(self.items) - 1, self.index + step))
            self.selection = Selection(target=self.selection.target)
            self._status("")
            self._show()

    def action_open_link(self) -> None:
        item = self.current
        if item is not None and item.link.startswith(_LINK_SCHEMES):
            self.app.open_url(item.link)

    def action_browse(self) -> None:
        self.app.push_screen(BrowseScreen())

    def action_leave(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()


class BrowseScreen(Screen[None]):
    """Sources → articles → comments, loaded when a node is opened; r reviews the chosen comment."""

    BINDINGS = [
        Binding("r", "review", "review comment"),
        Binding("l", "open_link", "open link"),
        Binding("escape", "leave", "back"),
        Binding("q", "app.quit", "quit"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.chosen: QueueItem | None = None

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Tree(Text("sources"), id="tree")
            with VerticalScroll(id="detail"):
                yield Static(id="card", markup=False)
                yield Static(id="text", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        from monitor.review.browse import source_summaries

        tree = self.query_one("#tree", Tree)
        tree.root.expand()
        with self.review_app.engine.connect() as conn:
            for src in source_summaries(conn):
                label = Text(one_line(src.name), "bold")
                label.append(f"  {src.articles} articles · {src.comments} comments · {src.toxic} toxic"
                             + (f" · mean {src.mean_toxicity:.2f}" if src.mean_toxicity is not None else ""),
                             "dim")
                tree.root.add(label, data=("source", src.id))
        tree.focus()

    @property
    def review_app(self) -> ReviewApp:
        return self.app  # type: ignore[return-value]

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[Any]) -> None:
        node = event.node
        if node.data is None or node.children:
            return
        kind, key = node.data
        with self.review_app.engine.connect() as conn:
            if kind == "source":
                from monitor.review.browse import article_summaries

                for art in article_summaries(conn, key):
                    label = Text(truncate(one_line(art.title or art.url), 70))
                    label.append(f"  {art.comments} comments · {art.toxic} toxic", "dim")
                    node.add(label, data=("article", art.id))
            elif kind == "article":
                for item in comment_items(conn, article_id=key):
                    score = "  -  " if item.toxicity is None else f"{item.toxicity:.2f} "
                    label = Text(score, _score_style(item.toxicity, self.review_app.threshold))
                    label.append(truncate(one_line(item.text), 70))
                    node.add_leaf(label, data=("comment", item))

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[Any]) -> None:
        data = event.node.data
        if data is not None and data[0] == "comment":
            self.chosen = data[1]
            standing = Selection(recorded=self.review_app.recorded_for(self.chosen.comment_id))
            card = render_card(self.chosen, self.review_app.targets, standing,
                               threshold=self.review_app.threshold)
            self.query_one("#card", Static).update(card)
            self.query_one("#text", Static).update(_comment_text(self.chosen))

    def action_review(self) -> None:
        if self.chosen is not None:
            self.app.push_screen(ReviewScreen([self.chosen], title="comment"))

    def action_open_link(self) -> None:
        if self.chosen is not None and self.chosen.link.startswith(_LINK_SCHEMES):
            self.app.open_url(self.chosen.link)

    def action_leave(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()


class ReviewApp(App[None]):
    """Holds the engine, the reviewer and the targets; starts on the queue or on the browser."""

    TITLE = "monitor review"
    CSS = """
    #card { padding: 0 1; height: auto; }
    #body { border: round $secondary; padding: 0 1; }
    #text { height: auto; }
    #status { height: 1; padding: 0 1; color: $success; }
    #tree { width: 1fr; }
    #detail { width: 1fr; border-left: solid $secondary; }
    """

    def __init__(self, engine: Engine, *, reviewer: str, targets: Sequence[str], threshold: float,
                 items: Sequence[QueueItem] = (), browse: bool = False) -> None:
        super().__init__()
        self.engine = engine
        self.reviewer = reviewer
        self.targets = list(targets)
        self.threshold = threshold
        self.items = list(items)
        self.browse = browse
        self.recorded = 0

    def on_mount(self) -> None:
        self.push_screen(BrowseScreen() if self.browse else ReviewScreen(self.items))

    def record(self, comment_id: int, kind: str, value: str) -> None:
        with self.engine.begin() as conn:
            record_verdicts(conn, [Verdict(comment_id, kind, value)], self.reviewer)
        self.recorded += 1

    def recorded_for(self, comment_id: int) -> dict[str, str]:
        """The standing verdicts on the comment and who gave them, to show beside the scores."""
        with self.engine.connect() as conn:
            return {v.kind: f"{'you' if v.reviewer == self.reviewer else one_line(v.reviewer)}: "
                            f"{v.value}" for v in latest_verdicts(conn, [comment_id])}
