"""Word-level differences between two texts (diff-match-patch on word tokens)."""

import re
import unicodedata

from diff_match_patch import diff_match_patch
from markupsafe import Markup, escape

_TOKEN = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)
EQUAL, INSERT, DELETE = 0, 1, -1


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(unicodedata.normalize("NFC", text or ""))


def word_diff(old: str, new: str) -> list[tuple[int, str]]:
    """``[(op, text), …]`` where op is EQUAL, INSERT or DELETE, at word granularity.

    Words are mapped to single characters (as diff-match-patch does for lines),
    diffed, and mapped back, so a change never splits a word.
    """
    vocabulary: dict[str, str] = {}
    reverse: list[str] = []

    def encode(text: str) -> str:
        chars = []
        for token in tokens(text):
            if token not in vocabulary:
                vocabulary[token] = chr(len(reverse) + 0x100)
                reverse.append(token)
            chars.append(vocabulary[token])
        return "".join(chars)

    engine = diff_match_patch()
    engine.Diff_Timeout = 2
    diffs = engine.diff_main(encode(old), encode(new), False)
    engine.diff_cleanupSemantic(diffs)
    result = []
    for op, chars in diffs:
        text = "".join(reverse[ord(ch) - 0x100] for ch in chars)
        if result and result[-1][0] == op:
            result[-1] = (op, result[-1][1] + text)
        else:
            result.append((op, text))
    return result


def diff_html(old: str, new: str) -> Markup:
    """The difference as HTML with <del> and <ins>, everything escaped."""
    parts = []
    for op, text in word_diff(old, new):
        if op == INSERT:
            parts.append(Markup("<ins>{}</ins>").format(text))
        elif op == DELETE:
            parts.append(Markup("<del>{}</del>").format(text))
        else:
            parts.append(escape(text))
    return Markup("").join(parts)
