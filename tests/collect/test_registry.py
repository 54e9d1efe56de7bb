"""A platform is one object registered once: the config accepts its name, `monitor extract` and
the runner use it, and a name nobody registered is refused with the accepted ones."""

from __future__ import annotations

from datetime import datetime

import pytest
from pydantic import ValidationError

from monitor.collect.base import (ArticleState, CommentFetch, CommentRecord, ExtractedArticle, Platform,
                                  extractor_for, make_collector, platform_names, register, unregister)
from monitor.collect.detect import detect_document
from monitor.collect.discovery import BaseCollector
from monitor.collect.http import PoliteClient
from monitor.collect.markup import Document
from monitor.collect.runner import collect_source
from monitor.config import SourceConfig, load_config
from monitor.errors import ConfigError
from monitor.store.db import engine_for_url, upgrade
from tests.conftest import make_config_dir


def toy_extract(doc: Document) -> list[CommentRecord]:
    return [CommentRecord(external_id=str(n), text=line) for n, line in enumerate(doc.text.splitlines())]


class ToyCollector(BaseCollector):
    platform = "toy"

    def discover(self, since: datetime) -> list[ExtractedArticle]:
        return [ExtractedArticle("a1", "https://toy.example/a1")]

    def fetch_comments(self, article: ExtractedArticle, state: ArticleState) -> CommentFetch:
        return CommentFetch(toy_extract(Document("first\nsecond")), complete=True)


@pytest.fixture
def toy():
    register(Platform("toy", extract=toy_extract, collector=ToyCollector,
                      recognise=lambda doc: doc.text.startswith("TOY:"), order=5))
    yield
    unregister("toy")


def test_a_registered_platform_is_configured_collected_and_extracted(toy, tmp_path):
    assert "toy" in platform_names()
    source = SourceConfig(name="t", url="https://toy.example/", platform="toy")
    assert isinstance(make_collector("toy", source, None), ToyCollector)
    assert [c.text for c in extractor_for("toy")(Document("a\nb"))] == ["a", "b"]
    assert detect_document(Document("TOY: first\nsecond")) == "toy"
    config = load_config(make_config_dir(tmp_path, f"sqlite:///{tmp_path / 'm.db'}"), environ={"MONITOR_SECRET": "x"})
    engine = engine_for_url(config.database.url)
    upgrade(engine)
    with PoliteClient() as client:
        outcome = collect_source(engine, config, source, client)
    engine.dispose()
    assert (outcome.status, outcome.new) == ("ok", 2)


def test_an_unknown_platform_is_refused_with_the_accepted_ones():
    with pytest.raises(ValidationError, match="accepted: auto, wordpress"):
        SourceConfig(name="t", url="https://x.example/", platform="toy")
    with pytest.raises(ConfigError, match="unknown platform"):
        make_collector("toy", None, None)


def test_a_documents_only_platform_does_not_collect():
    assert "schema" not in platform_names() and "schema" in platform_names(documents=True)
    with pytest.raises(ConfigError, match="saved documents only"):
        make_collector("schema", None, None)
