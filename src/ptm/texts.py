"""Sentences ptm composes for a notebook, in the notebook's language (English or Korean).

The notebooks exist in English and in Korean with the same code; their ``parameters`` cell
sets ``LANG``, and the functions that write sentences (the data banner, the exercises'
readings, the "notes vs this run" tables) take it as ``lang=``. Each module keeps its own
sentences beside its code, one ``{"en": ..., "ko": ...}`` mapping each.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["LANGUAGES"]

LANGUAGES = ("en", "ko")
"""The languages of the notebooks: English and Korean (the notes' language)."""


def check_language(lang: Any) -> str:
    """Return ``lang`` if it is one of `LANGUAGES`, else raise a ValueError naming it."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(map(repr, LANGUAGES))}, got {lang!r}")
    return lang


def say(sentence: Mapping[str, str], lang: str, **fields: Any) -> str:
    """The sentence in ``lang``, with its ``{fields}`` filled in.

    Example:
        >>> say({"en": "{n} runs", "ko": "실행 {n}회"}, "ko", n=3)
        '실행 3회'
    """
    return sentence[check_language(lang)].format(**fields)
