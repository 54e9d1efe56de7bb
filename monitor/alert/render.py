"""Jinja2 templates for notifications: the built-in ones ship in `templates/`, an operator's
`alerts.templates_dir` overrides them file by file.

Templates only format: `monitor.alert.content` has already neutralised every untrusted string, and
HTML templates are autoescaped. A template that does not compile or render is a config error that
names the file and line.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.errors import ConfigError

if TYPE_CHECKING:
    import jinja2

__all__ = ["TEMPLATES", "check_templates", "environment", "render"]

TEMPLATES = ("email_subject.j2", "email.txt.j2", "email.html.j2")


@lru_cache(maxsize=8)
def environment(templates_dir: Path | None = None) -> jinja2.Environment:
    """Templates from `templates_dir` first, then the built-in ones; HTML ones autoescaped."""
    import jinja2

    loaders: list[jinja2.BaseLoader] = []
    if templates_dir is not None:
        loaders.append(jinja2.FileSystemLoader(str(templates_dir)))
    loaders.append(jinja2.PackageLoader("monitor.alert", "templates"))
    return jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), undefined=jinja2.StrictUndefined,
                              autoescape=jinja2.select_autoescape(["html.j2"], default=False),
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def _where(exc: Exception, name: str, templates_dir: Path | None) -> str:
    import jinja2

    path = exc.filename if isinstance(exc, jinja2.TemplateSyntaxError) and exc.filename else name
    line = getattr(exc, "lineno", None)
    if templates_dir is not None and not Path(path).is_absolute() and (templates_dir / name).exists():
        path = str(templates_dir / name)
    return f"{path}:{line}" if line else str(path)


def render(name: str, templates_dir: Path | None = None, **context: Any) -> str:
    """Render template `name`; a broken template raises ConfigError with its file and line."""
    import jinja2

    try:
        return environment(templates_dir).get_template(name).render(**context)
    except jinja2.TemplateError as exc:
        raise ConfigError(f"template error: {exc}", file=_where(exc, name, templates_dir),
                          fix="fix the template or remove it from alerts.templates_dir to use the "
                              "built-in one") from None


def check_templates(templates_dir: Path | None) -> None:
    """Compile every template (for `config check` and receiver start); raises ConfigError."""
    import jinja2

    if templates_dir is not None and not templates_dir.is_dir():
        raise ConfigError(f"{templates_dir} is not a folder", key="alerts.templates_dir",
                          fix="create it, or leave the key out to use the built-in templates")
    env = environment(templates_dir)
    for name in TEMPLATES:
        try:
            env.get_template(name)
        except jinja2.TemplateError as exc:
            raise ConfigError(f"template error: {exc}", file=_where(exc, name, templates_dir),
                              fix="fix the template or remove it from alerts.templates_dir") from None
