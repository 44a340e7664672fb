"""Display labels in English and Chinese for the language-neutral codes the model stores."""

from __future__ import annotations

from typing import Final

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
    "active": "正常",
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
