"""A platform is one object registered once: the config accepts its name and validates its own
options, `monitor extract` and the runner use it, and a name nobody registered is refused with the
accepted ones."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

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


class ToyOptions(BaseModel):
    """The toy platform's own [[source]] key: how many comments a thread shows."""

    model_config = ConfigDict(extra="forbid")

    toy_thread_size: int = Field(2, ge=1, le=100)


class ToyCollector(BaseCollector):
    platform = "toy"

    def __init__(self, source: Any, client: Any, *, options: ToyOptions, **runtime: Any) -> None:
        super().__init__(source, client, **runtime)
        self.thread_size = options.toy_thread_size

    def discover(self, since: datetime) -> list[ExtractedArticle]:
        return [ExtractedArticle("a1", "https://toy.example/a1")]

    def fetch_comments(self, article: ExtractedArticle, state: ArticleState) -> CommentFetch:
        lines = "\n".join(f"comment {n}" for n in range(self.thread_size))
        return CommentFetch(toy_extract(Document(lines)), complete=True)


@pytest.fixture
def toy():
    register(Platform("toy", extract=toy_extract, collector=ToyCollector,
                      recognise=lambda doc: doc.text.startswith("TOY:"), order=5, options=ToyOptions))
    yield
    unregister("toy")


def _sources_error(tmp_path, table: str) -> str:
    path = make_config_dir(tmp_path, sources='[[source]]\nname = "t"\nurl = "https://toy.example/"\n' + table)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={"MONITOR_SECRET": "x"})
    return str(caught.value)


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
    assert (outcome.status, outcome.new) == ("ok", 2)  # the option's default


def test_a_platform_option_is_read_from_the_source_table_and_reaches_the_collector(toy, tmp_path):
    path = make_config_dir(tmp_path, f"sqlite:///{tmp_path / 'm.db'}",
                           sources='[[source]]\nname = "t"\nurl = "https://toy.example/"\n'
                                   'platform = "toy"\ntoy_thread_size = 5\n')
    config = load_config(path, environ={"MONITOR_SECRET": "x"})
    engine = engine_for_url(config.database.url)
    upgrade(engine)
    with PoliteClient() as client:
        outcome = collect_source(engine, config, config.sources[0], client)
    engine.dispose()
    assert (outcome.status, outcome.new) == ("ok", 5)


def test_a_bad_platform_option_is_one_line_naming_file_and_key(toy, tmp_path):
    error = _sources_error(tmp_path, 'platform = "toy"\ntoy_thread_size = 0\n')
    assert "\n" not in error
    assert error.startswith(f"{tmp_path / 'config' / 'sources.toml'}: source[0].toy_thread_size: ")
    assert "greater than or equal to 1" in error


def test_a_misspelt_platform_option_is_an_unknown_key(toy, tmp_path):
    error = _sources_error(tmp_path, 'platform = "toy"\ntoy_thread_sise = 3\n')
    assert "source[0].toy_thread_sise: unknown key" in error


def test_an_option_of_another_platform_is_refused_naming_its_owner(toy, tmp_path):
    error = _sources_error(tmp_path, 'platform = "feed"\ntoy_thread_size = 3\n')
    assert "source[0].toy_thread_size: an option of platform 'toy', not of 'feed'" in error


def test_an_auto_source_may_carry_the_options_of_the_platform_it_may_become(toy):
    source = SourceConfig(name="t", url="https://toy.example/", toy_thread_size=7)
    assert source.options_for("toy").toy_thread_size == 7
    assert source.options_for("wordpress") is None
    with pytest.raises(ValidationError, match="toy_thread_size"):
        SourceConfig(name="t", url="https://toy.example/", toy_thread_size="many")


def test_an_unknown_platform_is_refused_with_the_accepted_ones():
    with pytest.raises(ValidationError, match="accepted: auto, wordpress"):
        SourceConfig(name="t", url="https://x.example/", platform="toy")
    with pytest.raises(ConfigError, match="unknown platform"):
        make_collector("toy", None, None)


def test_a_documents_only_platform_does_not_collect():
    assert "schema" not in platform_names() and "schema" in platform_names(documents=True)
    with pytest.raises(ConfigError, match="saved documents only"):
        make_collector("schema", None, None)
