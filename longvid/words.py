"""Words in any script: the terms a question or an answer is matched by, and the text the
full-text index holds.

Chinese, Japanese, Korean and Thai are written without spaces between words (Korean glues
particles to nouns), so a whole sentence would be one token. Their characters are indexed one by
one and searched as phrases of adjacent characters: a one- or two-character word matches inside
any sentence, with no dictionary. A question's runs of such characters become their bigrams
(each a phrase), split first at common function words. Numbers match in any form: full-width
digits and Chinese/Japanese numerals become ASCII digits.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import cache
from typing import Any

_NO_SPACE = (
    "\u0e00-\u0e7f\u0e80-\u0eff\u1000-\u109f\u1780-\u17ff"  # Thai, Lao, Myanmar, Khmer
    "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"  # Hangul
    "\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff"  # Hiragana, Katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"  # Han
)
NO_SPACE_CHAR = re.compile(f"[{_NO_SPACE}]")
_HIRAGANA = re.compile("^[\u3040-\u309f]+$")
_NUMERALS = "零〇一二两三四五六七八九十百千万亿"
_NUMERAL_RUN = re.compile(f"[{_NUMERALS}]+")
_DIGIT_VALUE = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_UNIT_VALUE = {"十": 10, "百": 100, "千": 1000}
_BIG_UNIT_VALUE = {"万": 10_000, "亿": 100_000_000}
_TOKEN = re.compile(
    rf"(?P<number>\d+)|(?P<run>[{_NO_SPACE}]+)"
    rf"|(?P<word>(?:(?![{_NO_SPACE}])[^\W\d_])(?:(?![{_NO_SPACE}])[\w'])*)"
)
_QUOTED = re.compile(r'"([^"]+)"|“([^”]+)”|「([^」]+)」')

# Function and question words that carry no content: English, Spanish, French, German,
# Portuguese, Italian (3+ letters; shorter words are never terms; none that is an English
# content word, such as 'war' or 'son'), and Chinese/Japanese/Korean.
_SPACED_FUNCTION_WORDS = """
    a an and are as at be by did do does for from had has have he her his how i in is it its of on
    or she that the their them they this to was were what when where which who whom why will with
    you your about after before during video film clip movie say said tell there then than los las
    del una uno unos unas por para con que qué cómo como cuál cuáles cuándo dónde quién quiénes
    cuánto cuánta cuántos cuántas porque pero sus ella ellos fue está están les des une est avec
    dans qui quoi quel quelle quels quelles comment combien pourquoi où sont était ont aux sur pas
    der das dem ein eine einen und ist wer wie wann warum wieso welche welcher mit von für auf sich
    nicht aus uma dos com não foi são quem quando onde qual quais perché che quale quanto della
"""
_UNSPACED_FUNCTION_WORDS = """
    为什么 什么 怎么样 怎么 怎样 如何 哪里 哪儿 哪个 哪些 多少 多久 多长 谁 哪 几 吗 呢 吧 啊 了 的 地 得
    是 在 和 与 及 也 都 就 他们 她们 它们 我们 你们 他 她 它 我 你 这个 那个 这 那 有 没有 视频 影片
    の は が を に で と も か へ や から まで より ですか ました ます です した だれ 誰 何 なに
    なぜ どこ いつ どう どの どれ いくつ いくら 동영상 무엇 누가 누구 어디 언제 왜 어떻게 몇 얼마나
"""
_STOPWORDS = set(_SPACED_FUNCTION_WORDS.split())
_NO_SPACE_STOPWORDS = sorted(_UNSPACED_FUNCTION_WORDS.split(), key=len, reverse=True)
_STOP_SPLIT = re.compile("|".join(re.escape(w) for w in _NO_SPACE_STOPWORDS))


def normalize(text: str) -> str:
    """NFKC (full-width digits and letters become ASCII), case-folded, numerals as digits."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _NUMERAL_RUN.sub(lambda m: _numeral(m.group()), folded)


def _numeral(run: str) -> str:
    """A run of Chinese/Japanese numerals as digits: 四十 -> 40, 一百零五 -> 105, 二〇二六 -> 2026."""
    if not any(c in _UNIT_VALUE or c in _BIG_UNIT_VALUE for c in run):
        return "".join(str(_DIGIT_VALUE[c]) for c in run)  # read digit by digit (years, codes)
    total = section = digit = 0
    for char in run:
        if char in _DIGIT_VALUE:
            digit = _DIGIT_VALUE[char]
        elif char in _UNIT_VALUE:
            section += (digit or 1) * _UNIT_VALUE[char]
            digit = 0
        else:
            total += (section + digit) * _BIG_UNIT_VALUE[char]
            section = digit = 0
    return str(total + section + digit)


def for_index(text: str) -> str:
    """The text the full-text index holds: normalized, each no-space character a token."""
    return NO_SPACE_CHAR.sub(lambda m: f" {m.group()} ", normalize(text))


def any_of(terms: Sequence[str]) -> str:
    """A full-text (FTS5) query matching any of ``terms``, each a phrase of the tokens
    ``for_index`` stores; "" when no term has a token."""
    phrases = (" ".join(for_index(term).replace('"', " ").split()) for term in terms)
    return " OR ".join(f'"{p}"' for p in phrases if p)


def terms(text: str) -> list[str]:
    """Words worth matching literally, in order, without repeats: quoted phrases, numbers,
    content words of 3+ letters, and the characters (one) or bigrams (more) of each run of
    no-space script between function words. All normalized (see ``normalize``)."""
    found = [normalize(next(g for g in m.groups() if g)) for m in _QUOTED.finditer(text)]
    for match in _TOKEN.finditer(normalize(text)):
        if match.group("number"):
            found.append(match.group("number"))
        elif match.group("run"):
            found += _run_terms(match.group("run"))
        else:
            word = match.group("word")
            found += [word] if len(word) >= 3 and word not in _STOPWORDS else []
    return list(dict.fromkeys(t for t in found if t.strip()))


def _run_terms(run: str) -> list[str]:
    out: list[str] = []
    pieces = [p for p in _STOP_SPLIT.split(run) if p]
    content = [p for p in pieces if not _HIRAGANA.match(p)] or pieces  # kana between kanji is grammar
    for piece in content:
        out += [piece] if len(piece) == 1 else [piece[i : i + 2] for i in range(len(piece) - 1)]
    return out


LANGUAGE_NAMES = {
    "en": "English", "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "es": "Spanish",
    "fr": "French", "de": "German", "pt": "Portuguese", "it": "Italian", "ru": "Russian",
    "ar": "Arabic", "hi": "Hindi", "th": "Thai", "vi": "Vietnamese", "id": "Indonesian",
    "tr": "Turkish", "nl": "Dutch", "pl": "Polish", "uk": "Ukrainian", "fa": "Persian",
}  # fmt: skip


def write_in(question: str) -> str:
    """An instruction to answer in the question's language; "" for English, or where a short
    question's language is not clear (the model then answers as it will)."""
    code = question_language(question)
    if code in (None, "en"):
        return ""
    return f"Write your answer in {LANGUAGE_NAMES.get(code, code)}."


def question_language(text: str) -> str | None:
    """The language of a short text (a question): by script where it is at least half the letters
    (kana: Japanese, Hangul: Korean, Thai, Han: Chinese), else by py3langid when it is at least
    90 % sure."""
    letters = sum(c.isalpha() for c in text) or 1

    def share(script: str) -> int:
        return len(re.findall(f"[{script}]", text))

    kana, han = share("\u3040-\u30ff"), share("\u4e00-\u9fff")
    if kana and (kana + han) * 2 >= letters:
        return "ja"
    for code, count in (("ko", share("\uac00-\ud7af")), ("th", share("\u0e00-\u0e7f")), ("zh", han)):
        if count and count * 2 >= letters:
            return code
    if letters < 8:
        return None
    code, probability = _identifier().classify(text)
    return str(code) if probability >= 0.9 else None


def language(text: str) -> str | None:
    """The ISO 639-1 code of the language ``text`` is mostly in (py3langid), or None when there
    is too little text to tell."""
    sample = text[:4000]
    if sum(c.isalpha() for c in sample) < 8 and len(NO_SPACE_CHAR.findall(sample)) < 3:
        return None
    code, _ = _identifier().classify(sample)
    return str(code)


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def matches(text: str, terms: Sequence[str]) -> int:
    """How many of ``terms`` (from ``terms``) occur in ``text`` (raw; normalized once)."""
    normalized = normalize(text)
    return sum(term in normalized for term in terms)


def matches_whole(text: str, terms: Sequence[str]) -> int:
    """``matches`` by whole words (a term or its plural) in spaced scripts: "art" is not in
    "start", "5" not in "15"; runs of unspaced characters match inside any sentence."""
    normalized = normalize(text)
    return sum(
        (term in normalized) if (pattern := _whole(term)) is None else bool(pattern.search(normalized))
        for term in terms
    )


@cache
def _whole(term: str) -> re.Pattern[str] | None:
    if NO_SPACE_CHAR.search(term):
        return None
    return re.compile(rf"(?<!\w){re.escape(term)}(?:s|es)?(?!\w)")
