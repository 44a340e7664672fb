"""Display labels in English and Chinese for the language-neutral codes the model stores,
and the one rule for showing amounts and money.

Customer statuses have labels of their own, distinct from the five classification
categories: an `active` customer is 存续客户, never 正常 (which is the category `normal`).

Money is shown with its currency's symbol only where that symbol names one currency; where
several share it (¥ is the yuan — CNY, CNH — and the yen, JPY) the ISO code follows the
amount: `¥1,234.00 CNY`, `¥1,234 JPY`, but `$1,234.00`, `HK$1,234.00`, `€1,234.00`. A
currency without a symbol shows its code: `1,234.00 CHF`. `format_money` is that rule;
every display (the CLI, reports) goes through it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from creditmgmt.domain.money import MINOR_UNITS, SYMBOLS, Money

_ZH: Final[dict[str, str]] = {
    # five categories
    "normal": "正常",
    "special_mention": "关注",
    "substandard": "次级",
    "doubtful": "可疑",
    "loss": "损失",
    # collections actions
    "none": "无",
    "reminder": "自动提醒",
    "rm_call": "客户经理电话催收",
    "formal_notice": "催收通知",
    "final_demand": "最后催告",
    "legal": "移交特资/法律诉讼",
    "write_off_review": "核销评估",
    # severities and statuses
    "yellow": "黄色预警",
    "red": "红色预警",
    "open": "待处理",
    "acknowledged": "已确认",
    "escalated": "已升级",
    "resolved": "已解决",
    "prospect": "潜在客户",
    "active": "存续客户",
    "watchlist": "重点关注",
    "exited": "已退出",
    "approved": "已批准",
    "frozen": "已冻结",
    "suspended": "已暂停",
    "expired": "已到期",
    "closed": "已关闭",
    "cancelled": "已取消",
    "draft": "草稿",
    "submitted": "已提交",
    "under_review": "审查中",
    "assessed": "已评估",
    "pending_approval": "待审批",
    "declined": "已否决",
    "withdrawn": "已撤回",
    "contracted": "已签约",
    "activated": "已生效",
    # customers, facilities, products
    "corporate": "公司客户",
    "sme": "小微企业",
    "individual": "个人客户",
    "vip": "VIP客户",
    "general": "一般客户",
    "potential": "潜力客户",
    "at_risk": "流失风险客户",
    "group": "集团授信",
    "customer": "客户综合授信",
    "product": "产品分项额度",
    "working_capital": "流动资金贷款",
    "term_loan": "固定资产/项目贷款",
    "trade_finance": "贸易融资",
    "guarantee": "保函",
    "overdraft": "透支",
    "card": "信用卡",
    # approval levels
    "branch": "支行",
    "regional": "分行",
    "head_office": "总行",
    "credit_committee": "授信审批委员会",
    "head_office_committee": "总行授信审批委员会",
    "board": "董事会",
}

_EN_OVERRIDES: Final[dict[str, str]] = {
    "rm_call": "relationship manager call",
    "sme": "SME",
    "vip": "VIP",
    "head_office": "head office",
    "credit_committee": "credit committee",
    "head_office_committee": "head office credit committee",
}


def label(code: str, lang: str = "en") -> str:
    """The display label of a stored code (`label("special_mention", "zh") == "关注"`).

    Unknown codes are returned unchanged; `lang` is "en" or "zh".
    """
    if lang == "zh":
        return _ZH.get(code, code)
    return _EN_OVERRIDES.get(code, code.replace("_", " "))


def has_label(code: str) -> bool:
    """Whether `code` is one of the stored codes `label` knows (a category, an action, a
    status, ...), as opposed to an id, a region or industry code or a rule set's own name,
    which a report shows as it is stored."""
    return code in _ZH or code in _EN_OVERRIDES


#: customer statuses (their labels never equal a classification category's)
CUSTOMER_STATUSES: Final[tuple[str, ...]] = ("prospect", "active", "watchlist", "exited")
#: the five classification categories
CATEGORIES: Final[tuple[str, ...]] = (
    "normal",
    "special_mention",
    "substandard",
    "doubtful",
    "loss",
)

#: symbols that name more than one currency (shown with the ISO code after the amount)
SHARED_SYMBOLS: Final[frozenset[str]] = frozenset(
    s for s in SYMBOLS.values() if sum(1 for v in SYMBOLS.values() if v == s) > 1
)


def format_amount(value: Decimal | int, places: int = 2) -> str:
    """An amount for people: thousands separated, at least `places` decimals, never an
    exponent or a float-looking `33000000.0` (`format_amount(Decimal("33000000.0")) ==
    "33,000,000.00"`; `Decimal("0.0150")` keeps its four places). Non-finite decimals are
    shown as written."""
    if isinstance(value, int):
        value = Decimal(value)
    if not value.is_finite():
        return str(value)
    exponent = value.as_tuple().exponent
    shown = max(places, -exponent if isinstance(exponent, int) else 0)
    return f"{value:,.{shown}f}"


def format_money(value: Money | Decimal | int, currency: str | None = None) -> str:
    """Money for people, by the one rule of this module: `¥1,234.00 CNY`, `¥1,234 JPY`
    (¥ is shared), `$1,234.00`, `1,234.00 CHF` (no symbol); without a currency, the amount
    alone (`format_amount`). A `Money` brings its own currency; `currency` is the ISO code
    of a bare amount, whose minor units it takes.

    Raises:
        KeyError: `currency` is not a supported ISO code (check it with `Money.zero` first).
    """
    if isinstance(value, Money):
        amount, currency = value.amount, value.currency
    else:
        amount = Decimal(value)
    if currency is None:
        return format_amount(amount)
    body = format_amount(abs(amount), MINOR_UNITS[currency])
    sign = "-" if amount < 0 else ""
    symbol = SYMBOLS.get(currency)
    if symbol is None:
        return f"{sign}{body} {currency}"
    if symbol in SHARED_SYMBOLS:
        return f"{sign}{symbol}{body} {currency}"
    return f"{sign}{symbol}{body}"
