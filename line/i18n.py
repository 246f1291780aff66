"""Translations through gettext catalogs: `line/locale/<lang>/LC_MESSAGES/linemon.po`, the files a
translator edits (Poedit, Weblate). Messages are whole sentences with named placeholders
(`t("{station} down for {minutes} min", lang, station=..., minutes=...)`), so each language puts
the words in its own order; English is the message id, so a missing entry shows English.

`make i18n` extracts every `t("...")` and `N_("...")` from the code into the template and merges it
into the catalogs (Babel's pybabel); tests/test_i18n.py fails on a message without a Korean entry.
The `.po` is read with Babel at first use (no compiled `.mo` to keep in step) and cached.
"""

from __future__ import annotations

import functools
import gettext
import io
from collections.abc import Mapping
from pathlib import Path

LANGS = {"en": "EN", "ko": "한국어"}
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "linemon"


def N_(text: str) -> str:
    """Marks a message where it is defined (a table of labels) for extraction; translated later
    with `t(label, lang)`."""
    return text


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalog of `lang`, compiled in memory from its `.po` (English: none)."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if lang == "en" or not po.exists():
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo  # lazy: the CLI's start-up stays quick
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def t(text: str, lang: str | None, **values: object) -> str:
    """`text` in `lang` (English when there is no translation), its placeholders filled."""
    out = translations(lang).gettext(text) if lang in LANGS else text
    return out.format(**values) if values else out


def lang_of(value: str | None) -> str:
    return value if value in LANGS else "en"


def lang_from_env(environ: Mapping[str, str]) -> str:
    """The language of a command's messages: `LINEMON_LANG`, else gettext's own variables
    (LANGUAGE, LC_ALL, LC_MESSAGES, LANG: `ko_KR.UTF-8` gives Korean)."""
    for key in ("LINEMON_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(key)
        if value:
            code = value.split(":")[0].split("_")[0].split(".")[0].lower()
            return lang_of(code)
    return "en"
