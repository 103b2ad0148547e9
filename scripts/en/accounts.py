"""English strings of the account page (API tokens)."""

EN = {
    "我的账户": "My account", "姓名": "Name", "所属机构": "Organisation", "接口令牌": "API tokens",
    "如：报送系统": "e.g. reporting system", "有效天数": "Valid for (days)",
    "撤销后，使用该令牌的请求将立即被拒绝，且无法恢复。确定撤销吗？":
        "Once revoked, every request with this token is refused at once, and it cannot be restored. Revoke it?",
    "令牌 %(prefix)s… 已撤销。": "Token %(prefix)s… revoked.",
    "接口令牌供机器客户端调用平台接口（请求头 Authorization: Token &lt;令牌&gt;，或 Open311 的 api_key）。令牌签发后最长 "
    "%(days)s 天内有效，到期自动失效；不再使用或可能泄露时请立即撤销。令牌只在签发时显示一次，平台只保存其摘要。":
        "API tokens let machine clients call the platform's API (the header Authorization: Token &lt;token&gt;, "
        "or Open311's api_key). A token is valid for at most %(days)s days after it is issued and then "
        "expires; revoke it at once when it is no longer used or may have leaked. A token is shown only when "
        "it is issued: the platform keeps only its digest.",
    "新令牌（只显示这一次，请立即复制保存）": "New token (shown this once: copy and keep it now)",
    "有效期至 %(at)s。": "Valid until %(at)s.", "申请新令牌": "Issue a new token", "令牌开头": "Token starts with",
    "签发时间": "Issued", "有效期至": "Valid until", "有效": "Active", "已过期": "Expired", "已撤销": "Revoked",
    "撤销": "Revoke", "还没有接口令牌。": "No API tokens yet.",
}
