"""The screening engine as a library: categories, evasions, innocent look-alikes, API.

Pure Python - no Django, no database.
"""

from __future__ import annotations

import json

import pytest

from approvals.screening import Hit, Policy, ScreeningResult, Term
from approvals.screening.detectors import id_check_character, is_valid_id_number, luhn_valid
from approvals.screening.normalize import FoldedText, fold, normalize


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Policy.default()


def categories(result: ScreeningResult) -> set[str]:
    return {hit.category for hit in result.hits}


def assert_flagged(policy: Policy, text: str, category: str, decision: str | None = None) -> None:
    result = policy.screen(text)
    assert category in categories(result), (text, result.to_dict())
    assert result.decision != "pass", (text, result.to_dict())
    if decision is not None:
        assert result.decision == decision, (text, result.to_dict())


def assert_clean(policy: Policy, text: str) -> None:
    result = policy.screen(text)
    assert result.decision == "pass", (text, result.to_dict())
    assert not [h for h in result.hits if h.severity != "warn"], (text, result.to_dict())


def valid_id_number(prefix17: str = "11010519900307123") -> str:
    return prefix17 + id_check_character(prefix17)


def luhn_complete(prefix: str) -> str:
    for digit in "0123456789":
        if luhn_valid(prefix + digit):
            return prefix + digit
    raise AssertionError("unreachable")


# --- normalization ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("最 好 的", "最好的"),
        ("稳*赚", "稳赚"),
        ("國家級", "国家级"),
        ("ＴＯＰ１", "top1"),
        ("零\u200b风\u200d险\ufeff", "0风险"),
        ("f.u.c.k", "fuck"),
        ("Ｆ-Ｕ-Ｃ-Ｋ", "fuck"),
        ("fück", "fuck"),
        ("𝐟𝐮𝐜𝐤", "fuck"),
        ("ѕhіt", "shit"),  # Cyrillic look-alikes
        ("保-本-高-收-益", "保本高收益"),
        ("傻\u00ad逼", "傻逼"),
        ("v❤️信", "v信"),
    ],
)
def test_it_normalizes_evasive_spellings(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_it_keeps_hard_punctuation_as_a_clause_boundary() -> None:
    assert normalize("很稳。赚多少不重要") == "很稳\n赚多少不重要"


def test_it_joins_characters_that_each_stand_alone_between_punctuation() -> None:
    assert normalize("保，本，高，收，益") == "保本高收益"
    assert normalize("最\n好\n的") == "最好的"


def test_it_keeps_the_base_view_index_aligned_for_ordinary_text() -> None:
    text = "全国销量第一，No.1 的选择！"
    assert len(fold(text)) == len(text)


def test_it_maps_compact_offsets_back_to_the_text_as_sent() -> None:
    text = "a\u200b稳 * 赚"
    folded = FoldedText(text)
    assert folded.compact == "a稳赚"
    start = folded.base_index(1)
    end = folded.base_index(2) + 1
    assert folded.text_span(start, end) == (2, 7)
    assert text[2:7] == "稳 * 赚"


# --- ad_law ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "全国销量第一的SUV",
        "我们是行业最大的经销商",
        "独家配方，顶级享受",
        "最 好 的 手 机",
        "國家級品質保證",
        "No.1 choice for families",
        "ＴＯＰ１品牌",
        "全网最低价，错过等一年",
        "史上最强性能",
        "最-佳-拍-档",
        "销量遥遥领先",
        "The best phone you can buy",
        "world-class service",
        "最，佳，选，择",
    ],
)
def test_it_sends_absolute_advertising_claims_to_review(policy: Policy, text: str) -> None:
    assert_flagged(policy, text, "ad_law", "review")


@pytest.mark.parametrize(
    "text",
    [
        "最近工作很忙，但很充实。",
        "最后一天报名，大家抓紧。",
        "最终解释权归本公司所有",
        "第一次试驾新车，感觉很稳。",
        "第一天上班，很开心",
        "第一时间通知大家",
        "第一，我们要感谢所有同事；第二，继续努力。",
        "安全第一，文明驾驶",
        "今年最大的收获是认识了大家",
        "最高时速200公里",
        "他是我最好的朋友",
        "你最好提前预约",
        "我们团队获得了黑客松第一名",
        "最新款已到店",
        "年度最佳员工颁奖",
        "首先感谢大家",
        "Best regards, the team",
        "I did my best today",
        "All the best for the new year!",
        "Top 10 tips for summer driving",
    ],
)
def test_it_leaves_everyday_phrases_with_superlative_words_alone(policy: Policy, text: str) -> None:
    assert_clean(policy, text)


def test_ordinals_and_numbers_inside_bigger_numbers_are_not_claims(policy: Policy) -> None:
    assert_clean(policy, "比赛获得第10名")
    assert_clean(policy, "公司成立于一九九六年")
    assert_flagged(policy, "九九六是福报吗", "workplace")
    assert_flagged(policy, "全国第1", "ad_law")


def test_an_allow_phrase_cancels_only_the_hit_it_covers(policy: Policy) -> None:
    result = policy.screen("全国第一家门店")  # 第一家 is an ordinal, 全国第一 is a claim
    assert [hit.term for hit in result.hits] == ["全国第一"]


# --- finance -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "保本理财，年化6%",
        "稳赚不亏，闭眼买",
        "這個產品無風險",
        "保-本-高-收-益",
        "零\u200b风险的投资机会",
        "稳 赚 不 赔",
        "穩賺不賠",
        "０风险，高回报",
        "保，本，高，收，益",
        "Guaranteed returns of 8% a year",
        "principal guaranteed, no worries",
    ],
)
def test_it_blocks_promises_of_returns(policy: Policy, text: str) -> None:
    assert_flagged(policy, text, "finance", "block")


@pytest.mark.parametrize(
    "text",
    [
        "投资有风险，理财需谨慎。",
        "本产品不保本，过往业绩不代表未来表现",
        "不保证收益，投资需谨慎",
        "无风险利率持续下行",
        "确保本次活动顺利进行",
        "请确保本周内完成报销",
        "卖面包赚钱不容易",
        "很稳。赚多少不重要",
        "本店保本价清仓",
    ],
)
def test_it_leaves_risk_statements_and_look_alikes_alone(policy: Policy, text: str) -> None:
    assert_clean(policy, text)


def test_it_suggests_a_compliant_risk_statement_for_finance_hits(policy: Policy) -> None:
    (hit,) = policy.screen("保本").hits
    assert "投资有风险" in hit.message
    assert "investing involves risk" in hit.message


# --- pii -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "我的手机 13987654321，欢迎来电",
        "电话 139-8765-4321",
        "电话 139 8765 4321",
        "Tel: 139.8765.4321",
        "+86 139 8765 4321",
        "0086-13987654321",
        "１３９８７６５４３２１",
        "1 3 9 8 7 6 5 4 3 2 1",
        "幺三九八七六五四三二一",
    ],
)
def test_it_sends_mobile_numbers_to_review(policy: Policy, text: str) -> None:
    assert_flagged(policy, text, "pii", "review")


def test_it_blocks_valid_id_numbers_in_any_grouping(policy: Policy) -> None:
    number = "440304199003072515"
    assert is_valid_id_number(number)
    assert_flagged(policy, f"身份证号 {number} 的客户请来取件", "pii", "block")
    assert_flagged(policy, f"证件 {number[:6]} {number[6:14]} {number[14:]}", "pii", "block")
    with_x = "11010519491231002X"
    assert is_valid_id_number(with_x)
    assert_flagged(policy, f"身份证：{with_x.lower()}", "pii", "block")


def test_it_blocks_bank_card_numbers_that_pass_luhn(policy: Policy) -> None:
    card = luhn_complete("621700000000123")
    assert_flagged(policy, f"银行卡 {card[:4]} {card[4:8]} {card[8:12]} {card[12:]} 转账即可", "pii", "block")
    assert_flagged(policy, f"卡号{card}", "pii", "block")
    nineteen = luhn_complete("622202123456789012")
    assert_flagged(policy, f"卡号 {nineteen}", "pii", "block")


@pytest.mark.parametrize(
    "text",
    [
        "订单 202401010001 已完成。",
        "身份证号 440304199003072513 格式有误，请重新填写",  # wrong check digit
        "客服电话 400-123-4567",
        "服务热线 800-810-8888",
        "座机 0755-12345678",
        "2024年全年销量12000台",
        "流水号 2024010113987654321",  # a phone number inside a longer number
        "价格：￥299,999",
        "快递单号 SF1234567890123",
        "卡号 6222 0000 1234 5678",  # fails Luhn
    ],
)
def test_it_leaves_hotlines_order_numbers_and_invalid_numbers_alone(policy: Policy, text: str) -> None:
    assert_clean(policy, text)


def test_an_invalid_id_number_is_not_read_as_a_card_or_phone(policy: Policy) -> None:
    for last in "0123456789X":
        number = "44030419900307251" + last
        result = policy.screen(f"证件号 {number}")
        kinds = {hit.term for hit in result.hits}
        if is_valid_id_number(number):
            assert kinds == {"id_card_number"}
        else:
            assert kinds == set(), (number, result.to_dict())


def test_pii_hits_point_at_the_number_as_typed(policy: Policy) -> None:
    text = "电话：１３９-８７６５-４３２１！"
    (hit,) = policy.screen(text).hits
    assert text[hit.start : hit.end] == "１３９-８７６５-４３２１"


# --- profanity -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "傻逼才不买",
        "傻-逼设计",
        "傻 逼",
        "傻B",
        "煞笔设计",
        "this is fucking awesome",
        "s.h.i.t happens",
        "F U C K",
        "Ｆｕｃｋ",
        "what the f*ck",
        "sh!t",
        "ѕhіt",
        "bullshit",
    ],
)
def test_it_blocks_profanity_and_its_disguises(policy: Policy, text: str) -> None:
    assert_flagged(policy, text, "profanity", "block")


@pytest.mark.parametrize(
    "text",
    [
        "I passed the assessment today!",
        "We visited Middlesex for the regional meeting.",
        "Scunthorpe United won again",
        "Hancock Park is lovely",
        "Cocktail party at seven",
        "First class seats are booked",
        "This is a classic",
        "Taylor's hit single",
        "this hit is great",
        "The bus hit the wall",
        "shiitake mushrooms are in season",
        "A Dickens novel",
        "St. Louis office",
        "Our team won the internal hackathon.",
        "神经病学专家讲座",
        "去死皮效果很好",
    ],
)
def test_it_leaves_words_containing_profanity_alone(policy: Policy, text: str) -> None:
    assert_clean(policy, text)


# --- workplace -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "996就是福报",
        "不想干就走人，公司不缺你一个",
        "九九六是福报",
        "狼性文化",
        "实行末位淘汰",
        "招聘：限男性，35岁以下",
    ],
)
def test_it_sends_labour_flashpoints_to_review(policy: Policy, text: str) -> None:
    assert_flagged(policy, text, "workplace", "review")


@pytest.mark.parametrize(
    "text",
    [
        "今天加班到很晚，但结果很满意。",
        "年会表演准备中，大家加油！",
        "售价996元",
        "感谢团队的努力，项目按时上线。",
    ],
)
def test_it_leaves_ordinary_work_talk_alone(policy: Policy, text: str) -> None:
    assert_clean(policy, text)


# --- platform --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "加微信 hello_2024 了解详情",
        "v❤：car888 私聊",
        "加V了解",
        "vx: hello_99",
        "我的wx是abc_123",
        "V信 car888",
        "薇信 abc12345",
        "扫码进群领福利",
        "QQ 123456789",
        "微信号：zhangsan88",
    ],
)
def test_it_sends_traffic_diversion_to_review(policy: Policy, text: str) -> None:
    assert_flagged(policy, text, "platform", "review")


@pytest.mark.parametrize(
    "text",
    [
        "关注我们的微信公众号获取更多资讯",
        "微信支付立减10元",
        "在公司微信群里收到通知",
        "微博加V认证通过啦",
        "V领毛衣上新",
        "I love v8 engines",
        "Version v2.0 is out",
    ],
)
def test_it_leaves_official_channels_and_look_alikes_alone(policy: Policy, text: str) -> None:
    assert_clean(policy, text)


# --- the API -----------------------------------------------------------------------------------


def test_from_terms_holds_only_the_given_terms() -> None:
    policy = Policy.from_terms([("天穹计划", "confidential", "block")], allow=["天穹计划书"])
    assert policy.screen("天穹计划下月启动").decision == "block"
    assert policy.screen("天-穹-计-划").decision == "block"
    assert policy.screen("天穹计划书已归档").decision == "pass"
    assert policy.screen("全网最低价 13987654321").decision == "pass"  # no packs, no detectors


def test_from_terms_can_switch_detectors_on() -> None:
    policy = Policy.from_terms([], detectors=True)
    assert policy.screen("13987654321").decision == "review"


def test_extend_returns_a_new_policy_and_leaves_the_old_one_alone() -> None:
    base = Policy.default()
    extended = base.extend(
        terms=[("竞品X", "competitor", "review"), ("ProjectNova", "confidential", None)],
        allow=["最佳拍档"],
    )
    assert extended is not base
    assert base.screen("竞品X的车").decision == "pass"
    assert extended.screen("竞品X的车").decision == "review"
    assert extended.screen("project-nova launches").decision == "block"  # default severity
    assert base.screen("最佳拍档").decision == "review"
    assert extended.screen("最佳拍档").decision == "pass"
    assert extended.version != base.version


def test_camel_case_and_letter_digit_terms_match_their_spaced_spellings() -> None:
    policy = Policy.from_terms(
        [("ProjectNova", "confidential", "block"), ("iPhone15", "competitor", "review")]
    )
    for text in ["ProjectNova", "project nova", "Project-Nova", "PROJECT_NOVA", "iphone 15", "iPhone-15"]:
        assert policy.screen(text).decision != "pass", text
    for text in ["projectnovas", "the project, nova", "iphone 150"]:
        assert policy.screen(text).decision == "pass", text


def test_custom_categories_get_a_generic_bilingual_message() -> None:
    policy = Policy.from_terms([("内部价", "pricing_leak", "review")])
    (hit,) = policy.screen("内部价只要九折").hits
    assert hit.category == "pricing_leak"
    assert "pricing_leak" in hit.message and "请审核" in hit.message and "review" in hit.message


def test_terms_can_carry_their_own_suggestion_or_message() -> None:
    policy = Policy.from_terms(
        [
            ("极速版", "custom", "warn", "快速版", "fast edition"),
            Term("老款", "custom", "review", message="请使用“经典款”。 / Say 'classic'."),
            {"term": "清仓", "category": "custom", "severity": "review", "suggestion_zh": "特惠"},
        ]
    )
    hits = {hit.term: hit for hit in policy.screen("极速版 老款 清仓").hits}
    assert "快速版" in hits["极速版"].message and "fast edition" in hits["极速版"].message
    assert hits["老款"].message == "请使用“经典款”。 / Say 'classic'."
    assert "特惠" in hits["清仓"].message


def test_it_rejects_unknown_severities() -> None:
    with pytest.raises(ValueError):
        Policy.from_terms([("x", "custom", "severe")])


def test_the_decision_is_the_worst_severity_and_warn_alone_passes() -> None:
    policy = Policy.from_terms(
        [("甲", "custom", "warn"), ("乙", "custom", "review"), ("丙", "custom", "block")]
    )
    assert policy.screen("甲").decision == "pass"
    assert policy.screen("甲").hits[0].severity == "warn"
    assert policy.screen("甲乙").decision == "review"
    assert policy.screen("甲乙丙").decision == "block"
    assert policy.screen("丁").decision == "pass"


def test_the_version_fingerprints_the_content() -> None:
    one = Policy.from_terms([("甲", "custom", "review"), ("乙", "custom", "block")])
    same = Policy.from_terms([("乙", "custom", "block"), ("甲", "custom", "review")])
    other = Policy.from_terms([("甲", "custom", "block"), ("乙", "custom", "block")])
    assert one.version == same.version == one.fingerprint
    assert len(one.version) == 64
    assert other.version != one.version


def test_hits_index_the_text_as_sent_and_serialize_to_json(policy: Policy) -> None:
    text = "🎉 國\u200b家-級品质，稳*赚！"
    result = policy.screen(text)
    spans = {hit.term: text[hit.start : hit.end] for hit in result.hits}
    assert spans == {"国家级": "國\u200b家-級", "稳赚": "稳*赚"}
    payload = json.loads(json.dumps(result.to_dict(), ensure_ascii=False))
    assert payload["decision"] == "block"
    assert set(payload["hits"][0]) == {"category", "severity", "term", "start", "end", "message"}
    assert isinstance(result.hits[0], Hit)


def test_messages_explain_the_rule_in_chinese_and_english_with_a_rewrite(policy: Policy) -> None:
    (hit,) = policy.screen("最佳选择").hits
    assert "广告法" in hit.message and "Advertising Law" in hit.message
    assert "优秀" in hit.message and "excellent" in hit.message


def test_overlapping_hits_of_one_category_are_reported_once(policy: Policy) -> None:
    result = policy.screen("高收益无风险")
    assert [hit.term for hit in result.hits] == ["高收益无风险"]


def test_it_never_raises_on_awkward_input(policy: Policy) -> None:
    for text in ["", "\ud800", "\udfff稳\ud800赚", "\x00" * 10, "\u202e最佳\u202c", "🏳️‍🌈" * 50, "a" * 5]:
        assert policy.screen(text).decision in {"pass", "review", "block"}
    assert policy.screen(None).decision == "pass"  # type: ignore[arg-type]
