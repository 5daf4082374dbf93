"""Properties of screening that must hold for any input (hypothesis).

* screening never raises, whatever the text (surrogates, controls, 100 kB);
* every lexicon hit points at the text as sent: the span normalizes to the
  term and starts and ends on a matched character;
* separators or invisible characters inserted between the characters of a
  risky Chinese term never hide it.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from approvals.screening import Policy
from approvals.screening.normalize import fold_unsoftened, normalize
from approvals.screening.policy import builtin_terms

FAST = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)

# Soft separators and invisible characters an author can put between characters.
SEPARATORS = [
    " ", "  ", "*", "-", ".", "_", "~", "·", "/", "|", "\\", "#", "@", "+", "=",
    "♥", "❤", "❤️", "★", "☆", "😀", "🔥", "【", "】", "（", "）", "“", "”", "「", "」",
    "\u3000", "\xa0", "\t", "…", "—",
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\ufeff", "\u00ad",
    "\u034f", "\u0301", "\ufe0f", "\U000e0020",
]  # fmt: skip
# Context that cannot complete an allow phrase or another term around the insert.
NEUTRAL = st.text(alphabet="们他在看吧呀哦嗯 。，！abc", max_size=6)


def _cjk_risky_terms() -> list[str]:
    terms, allow = builtin_terms()
    allowed = {normalize(a) for a in allow}
    out = []
    for term in terms:
        pattern = normalize(term.term)
        if (
            term.resolved_severity() != "warn"
            and all("\u4e00" <= ch <= "\u9fff" for ch in term.term)
            and len(term.term) >= 2
            and not any(pattern in phrase for phrase in allowed)
        ):
            out.append(term.term)
    return out


CJK_TERMS = _cjk_risky_terms()

SMALL_POLICY = Policy.from_terms(
    [
        ("稳赚", "finance", "block"),
        ("最佳", "ad_law", "review"),
        ("国家级", "ad_law", "review"),
        ("傻逼", "profanity", "block"),
        ("fuck", "profanity", "block"),
        ("no risk", "finance", "review"),
        ("加v", "platform", "review"),
        ("996", "workplace", "review"),
    ],
    allow=["最佳实践"],
)
# Text built from what the small policy's terms are made of, plus separators,
# look-alikes and invisible characters, so that hits are frequent.
TRICKY_ALPHABET = st.sampled_from(
    list("稳赚最佳国家級傻逼fuckFUCKnoriskvV加996九") + SEPARATORS + ["，", "。", "\n", "ａ", "㍿", "ß"]
)
TRICKY_TEXT = st.lists(TRICKY_ALPHABET, max_size=40).map("".join)
ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=()), max_size=200)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Policy.default()


@FAST
@given(text=st.one_of(ANY_TEXT, TRICKY_TEXT))
def test_screening_never_raises(text: str) -> None:
    for current in (Policy.default(), SMALL_POLICY):
        result = current.screen(text)
        assert result.decision in {"pass", "review", "block"}
        assert not any(hit.category == "engine_error" for hit in result.hits)
        for hit in result.hits:
            assert 0 <= hit.start < hit.end <= len(text)


def test_screening_a_100_kb_post_is_quick_and_never_raises(policy: Policy) -> None:
    chunk = "全国销量第一！稳*赚不赔，加微信 abc_123，电话 139-8765-4321。\u200b😀 The best, f.u.c.k. "
    text = (chunk * (100_000 // len(chunk) + 1))[:100_000]
    started = time.perf_counter()
    result = policy.screen(text)
    elapsed = time.perf_counter() - started
    assert result.decision == "block"
    assert not any(hit.category == "engine_error" for hit in result.hits)
    assert elapsed < 5, elapsed
    assert policy.screen("\ud800" * 100_000).decision == "pass"
    assert policy.screen("最" * 100_000).decision == "pass"


@FAST
@given(text=TRICKY_TEXT)
def test_each_hit_spans_the_term_as_typed(text: str) -> None:
    result = SMALL_POLICY.screen(text)
    for hit in result.hits:
        span = text[hit.start : hit.end]
        pattern = normalize(hit.term)
        assert pattern in normalize(span), (text, hit)
        # The span starts and ends on characters that are part of the match.
        assert pattern[0] in normalize(span[0]), (text, hit)
        assert pattern[-1] in normalize(span[-1]), (text, hit)


@FAST
@given(text=st.lists(st.sampled_from(list("稳赚最佳国家级傻逼") + SEPARATORS), max_size=30).map("".join))
def test_spans_normalize_exactly_to_the_term_without_expansions(text: str) -> None:
    for hit in SMALL_POLICY.screen(text).hits:
        assert normalize(text[hit.start : hit.end]) == normalize(hit.term), (text, hit)


@FAST
@given(
    term=st.sampled_from(CJK_TERMS),
    data=st.data(),
    before=NEUTRAL,
    after=NEUTRAL,
)
def test_separators_between_the_characters_of_a_risky_term_never_hide_it(
    policy: Policy, term: str, data: st.DataObject, before: str, after: str
) -> None:
    inserts = data.draw(
        st.lists(
            st.lists(st.sampled_from(SEPARATORS), max_size=3).map("".join),
            min_size=len(term) - 1,
            max_size=len(term) - 1,
        )
    )
    disguised = term[0] + "".join(sep + ch for sep, ch in zip(inserts, term[1:], strict=True))
    text = before + disguised + after
    result = policy.screen(text)
    assert result.decision != "pass", (text, result.to_dict())
    start = len(before)
    end = start + len(disguised)
    assert any(hit.start < end and hit.end > start for hit in result.hits), (text, result.to_dict())


@FAST
@given(text=ANY_TEXT)
def test_folding_twice_changes_nothing(text: str) -> None:
    once = fold_unsoftened(text)
    assert fold_unsoftened(once) == once


def test_there_are_risky_chinese_terms_to_disguise() -> None:
    assert len(CJK_TERMS) > 100
