"""sockviz's gettext catalogues, with Babel: extract, merge, compile, check.

    python tools/catalog.py            # extract + merge: the .pot from the code, into every .po
    python tools/catalog.py compile    # every .po -> its .mo (the package ships the .mo)
    python tools/catalog.py check      # exit 1 when the .pot, a .po or a .mo is behind the code

The sentences are in src/sockviz/core/phrases.py (any module under
src/sockviz may mark one): ``_()``, ``N_()``, ``ngettext()``, ``pgettext()``
and ``NP_()`` (a table entry with a context). After ``extract``, translate
the new or fuzzy entries of src/sockviz/locale/<lang>/LC_MESSAGES/sockviz.po
(a fuzzy entry is Babel's guess from a similar old sentence: check it, then
drop the fuzzy flag), then ``compile``. tests/test_i18n.py uses the same
functions to check that nothing was forgotten.

With pybabel instead of this script, the same extraction is::

    pybabel extract -k NP_:1c,2 -c TRANSLATORS: --no-location --project sockviz \
        -o src/sockviz/locale/sockviz.pot src/sockviz
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "sockviz"
LOCALE = PACKAGE / "locale"
DOMAIN = "sockviz"
TEMPLATE = LOCALE / f"{DOMAIN}.pot"
KEYWORDS = {**DEFAULT_KEYWORDS, "NP_": ((1, "c"), 2)}  # NP_(context, message): a table's entry
COMMENT_TAGS = ("TRANSLATORS:",)
WIDTH = 100


def languages() -> list[str]:
    """The languages with a catalogue: those with a locale/<lang>/LC_MESSAGES/sockviz.po."""
    return sorted(p.parent.parent.name for p in LOCALE.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"


def extract() -> Catalog:
    """The template: every message marked in the code under src/sockviz, in the order found."""
    from sockviz import __version__

    catalog = Catalog(project="sockviz", version=__version__, charset="utf-8",
                      fuzzy=False, creation_date=_fixed_date())
    found = extract_from_dir(str(PACKAGE), method_map=[("**.py", "python")], keywords=KEYWORDS,
                             comment_tags=COMMENT_TAGS, strip_comment_tags=True)
    for filename, lineno, message, comments, context in found:
        catalog.add(message, None, [(f"sockviz/{filename}", lineno)], auto_comments=comments,
                    context=context)
    return catalog


def _fixed_date():
    """A constant creation date, so that re-extracting unchanged code changes no byte."""
    import datetime

    return datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def _po_text(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    # No line numbers (they change with every edit above a sentence); the file names stay.
    write_po(out, catalog, width=WIDTH, include_lineno=False, omit_header=False,
             ignore_obsolete=True, include_previous=True, sort_output=False)
    return out.getvalue()


def read(path: Path, locale: str | None = None) -> Catalog:
    with open(path, "rb") as f:
        return read_po(f, locale=locale, domain=DOMAIN)


def merged(lang: str, template: Catalog) -> Catalog:
    """``lang``'s catalogue brought up to ``template`` (new entries empty, changed ones fuzzy)."""
    catalog = read(po_path(lang), locale=lang)
    catalog.update(template, no_fuzzy_matching=False, update_header_comment=False)
    return catalog


def compiled(catalog: Catalog) -> bytes:
    """The .mo of ``catalog`` (fuzzy entries left out, as gettext does)."""
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def cmd_extract() -> None:
    template = extract()
    TEMPLATE.parent.mkdir(parents=True, exist_ok=True)
    TEMPLATE.write_bytes(_po_text(template))
    print(f"{TEMPLATE.relative_to(ROOT)}: {len(template)} messages")
    for lang in languages():
        catalog = merged(lang, template)
        po_path(lang).write_bytes(_po_text(catalog))
        todo = [m.id for m in catalog if m.id and (not _translated(m) or m.fuzzy)]
        print(f"{po_path(lang).relative_to(ROOT)}: {len(todo)} to translate or check")


def cmd_compile() -> None:
    for lang in languages():
        catalog = read(po_path(lang), locale=lang)
        mo_path(lang).write_bytes(compiled(catalog))
        print(f"{mo_path(lang).relative_to(ROOT)}: compiled")


def cmd_check() -> int:
    problems = []
    template = extract()
    if TEMPLATE.read_bytes() != _po_text(template):
        problems.append(f"{TEMPLATE.relative_to(ROOT)} is behind the code: run tools/catalog.py")
    for lang in languages():
        catalog = read(po_path(lang), locale=lang)
        missing = [m.id for m in template if m.id and catalog.get(m.id, context=m.context) is None]
        if missing:
            problems.append(f"{lang}: not merged: {missing[:3]}")
        todo = [m.id for m in catalog if m.id and (not _translated(m) or m.fuzzy)]
        if todo:
            problems.append(f"{lang}: {len(todo)} entries to translate or check: {todo[:3]}")
        if not mo_path(lang).exists() or mo_path(lang).read_bytes() != compiled(catalog):
            problems.append(f"{mo_path(lang).relative_to(ROOT)} is behind its .po: run "
                            "tools/catalog.py compile")
    for problem in problems:
        print(problem)
    return 1 if problems else 0


def _translated(message) -> bool:
    strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
    return all(strings)


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT / "src"))
    command = argv[0] if argv else "extract"
    if command == "extract":
        cmd_extract()
    elif command == "compile":
        cmd_compile()
    elif command == "check":
        return cmd_check()
    else:
        print(__doc__)
        return 64
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
