"""Korean a Jincheon supervisor reads: whole messages with named placeholders from gettext
catalogs. Every message the code asks for (`t("...")`, `N_("...")`, found by Babel's extractor
as `make i18n` finds them) has a Korean entry with the same placeholders; the catalog holds no
entry the code no longer uses; and a message keeps Korean word order."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from line.i18n import LOCALE_DIR, lang_from_env, t

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"t": None, "N_": None}
PLACEHOLDER = re.compile(r"{(\w*)[^}]*}")


def _used() -> dict[str, str]:
    """Message id -> where the code uses it first."""
    out: dict[str, str] = {}
    for folder in ("dashboard", "linemon", "line"):
        for filename, lineno, message, _, _ in extract_from_dir(
            ROOT / folder, [("**.py", "python")], keywords=KEYWORDS, comment_tags=()
        ):
            if isinstance(message, str):
                out.setdefault(message, f"{folder}/{filename}:{lineno}")
    return out


def _korean() -> dict[str, tuple[str, bool]]:
    with (LOCALE_DIR / "ko" / "LC_MESSAGES" / "linemon.po").open("rb") as f:
        catalog = read_po(f)
    return {m.id: (m.string, m.fuzzy) for m in catalog if m.id and isinstance(m.id, str)}


def test_every_message_has_a_korean_entry_with_the_same_placeholders() -> None:
    used, ko = _used(), _korean()
    assert len(used) > 150
    missing = [f"{where}: {msg!r}" for msg, where in used.items() if not ko.get(msg, ("", False))[0]]
    assert missing == [], "no Korean for:\n" + "\n".join(missing)
    fuzzy = [msg for msg in used if ko[msg][1]]
    assert fuzzy == [], f"fuzzy (unchecked) entries: {fuzzy}"
    wrong = [
        (msg, ko[msg][0]) for msg in used
        if sorted(PLACEHOLDER.findall(msg)) != sorted(PLACEHOLDER.findall(ko[msg][0]))
    ]  # fmt: skip
    assert wrong == [], f"placeholders differ: {wrong}"
    unused = sorted(set(ko) - set(used))
    assert unused == [], f"entries no code asks for (run make i18n): {unused}"


def test_messages_keep_korean_word_order() -> None:
    alarm = "{station} FPY this shift {fpy} (n={n}): alarm since {since} (floor {floor}, clears at {clear})"
    text = t(alarm, "ko", station="FT", fpy="75.0 %", n=40, since="09:12", floor="90 %", clear="92 %")
    assert text == "FT 이번 근무조 직행률 75.0 % (n=40): 09:12부터 알람 (기준 90 %, 92 % 이상이면 해제)"
    assert t(alarm, "en", station="FT", fpy="75.0 %", n=40, since="09:12", floor="90 %", clear="92 %") == (
        "FT FPY this shift 75.0 % (n=40): alarm since 09:12 (floor 90 %, clears at 92 %)"
    )
    assert t("no such message {x}", "ko", x=1) == "no such message 1"  # English when not translated


def test_a_commands_language_comes_from_the_environment() -> None:
    assert lang_from_env({"LANG": "ko_KR.UTF-8"}) == "ko"
    assert lang_from_env({"LANG": "ko_KR.UTF-8", "LC_ALL": "C.UTF-8"}) == "en"
    assert lang_from_env({"LINEMON_LANG": "ko", "LANG": "en_US.UTF-8"}) == "ko"
    assert lang_from_env({"LANGUAGE": "ko:en"}) == "ko"
    assert lang_from_env({}) == "en"
