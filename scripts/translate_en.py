"""Fill English msgstrs of huiqi/locale/en/LC_MESSAGES/django.po from the table below, then compile.

Run after `huiqi makemessages -l en`: python scripts/translate_en.py
Strings missing from the table are listed so they can be added here (the table is the source).
"""

import re
import runpy
import subprocess
import sys
from pathlib import Path

PO = Path(__file__).resolve().parent.parent / "huiqi" / "locale" / "en" / "LC_MESSAGES" / "django.po"

EN = {
    "首页": "Home", "企业名录": "Enterprise registry", "名录导入": "Registry import", "合作银行": "Partner banks",
    "后台任务": "Background jobs", "项目参数": "Program parameters", "审计日志": "Audit log", "接口文档": "API docs",
    "我的企业": "My enterprises",
    "登录失败次数过多，账户已临时锁定，请稍后再试。": "Too many failed sign-ins: the account is locked for a while. Please try again later.",
    "已退出登录。": "You have signed out.", "您无权查看此页面。": "You may not view this page.",
    "未找到该页面或记录。": "Page or record not found.", "分页": "Pagination", "共 %(n)s 条": "%(n)s in all",
    "第 %(p)s / %(t)s 页": "page %(p)s of %(t)s", "上一页": "Previous", "下一页": "Next", "登录": "Sign in",
    "登录惠企平台": "Sign in to Huiqi", "用户名": "User name", "密码": "Password", "演示账户": "Demo accounts",
    "所有演示账户的密码都是 <code>%(demo_password)s</code>": "Every demo account's password is <code>%(demo_password)s</code>",
    "角色": "Role", "代表": "Acts for", "惠企": "Huiqi", "惠企平台": "Huiqi platform", "菜单": "Menu",
    "主导航": "Main navigation", "退出": "Sign out",
    "深圳市工业和信息化局 · 惠企平台": "Shenzhen Bureau of Industry and Information Technology · Huiqi platform",
    "审计记录": "Audit record", "时间": "Time", "操作人": "By", "动作": "Action", "对象": "Record", "说明": "Note",
    "字段": "Field", "修改前": "Before", "修改后": "After", "无字段变化": "No field changed",
    "对象类型": "Record type", "全部": "All", "对象编号": "Record ID", "从": "From", "到": "To", "筛选": "Filter",
    "变化": "Changes", "没有符合条件的审计记录。": "No audit records match.", "无法完成": "Cannot be done",
    "无法完成此操作": "This cannot be done", "返回": "Back", "您好，%(name)s": "Hello, %(name)s",
    "可见企业": "Enterprises in scope", "签约 / 入库银行": "Banks signed / onboarded", "快速入口": "Shortcuts",
    "类型": "Kind", "创建时间": "Created", "开始": "Started", "结束": "Finished", "查看结果": "See the result",
    "任务": "Job", "状态": "Status", "进度": "Progress",
    "还没有后台任务。上传大文件或生成报表时会在这里显示进度。":
        "No background jobs yet. Large uploads and reports show their progress here.",
    "每个参数按生效日期保存；规则按计算日当天生效的取值执行。":
        "Each parameter is kept with its effective date; rules use the value in force on the day they compute for.",
    "新增参数取值": "Add a parameter value", "项目": "Program", "参数": "Parameter", "生效日期": "Effective from",
    "取值": "Value", "还没有参数。": "No parameters yet.", "银行机构代码": "Bank code", "银行名称": "Bank name",
    "签约日期": "Signed", "入库日期": "Onboarded", "还没有合作银行。": "No partner banks yet.",
    "重点企业": "Key enterprise", "基本信息": "Basic facts", "行业": "Industry", "企业规模": "Size class",
    "按 %(y)s 年数据": "from %(y)s figures", "缺少数据": "Missing figures",
    "从业人员（人）": "Employees", "营业收入（万元）": "Revenue (10k yuan)", "资产总额（万元）": "Assets (10k yuan)",
    "数据年度": "Figures year", "企业主": "Business owners", "没有登记的小微企业主。": "No business owners registered.",
    "参与的惠企项目": "Relief programs",
    "贴息、风险补偿、平稳发展基金、复工复产、诉求等项目上线后，这家企业在各项目中的情况都会显示在这里。":
        "As the interest subsidy, risk compensation, stable-development fund, return-to-work and request "
        "programs come online, this enterprise's part in each of them is shown here.",
    "企业名称或统一社会信用代码": "Enterprise name or USCC", "如：深圳市 / 91440300…": "e.g. 深圳市 / 91440300…",
    "区": "District", "规模": "Size", "主体类型": "Kind", "查询": "Search", "清除": "Clear",
    "导出当前结果": "Export these results", "企业名称": "Enterprise name",
    "统一社会信用代码": "Unified social credit code (USCC)", "从业人员": "Employees", "个体": "Individual",
    "没有符合条件的企业，请调整查询条件。": "No enterprise matches; try other search terms or filters.",
    "名录中还没有企业。": "The registry has no enterprises yet.", "导入企业名录": "Import a registry file",
    "企业名录导入": "Enterprise registry import",
    "支持 CSV（UTF-8 或 GBK/GB18030）和 Excel（XLSX，第一个工作表）；表头可用中文或英文，列顺序不限。只要有一行有误，整个文件不入库，并给出逐行错误报告；同一文件重复上传不会产生任何变化。":
        "CSV (UTF-8 or GBK/GB18030) and Excel (XLSX, first sheet) are accepted, with Chinese or English "
        "headers in any order. If any row is wrong, nothing of the file is stored and a report names every "
        "bad row; uploading the same file again changes nothing.",
    "下载模板": "Templates", "中文表头": "Chinese headers", "上传并校验": "Upload and check",
    "导入记录": "Imports", "文件": "File", "行数": "Rows", "错误": "Errors", "上传人": "Uploaded by",
    "还没有导入记录。": "No imports yet.", "数据行": "Data rows", "新增": "New", "更新": "Updated",
    "无变化": "Unchanged", "已忽略的列": "Ignored columns", "错误明细": "Errors in detail",
    "下载完整错误报告": "Download the full error report", "下表仅列出前 %(n)s 条": "only the first %(n)s are listed below",
    "错误超过 Excel 的 1,048,575 行，报告只有 CSV 格式":
        "more errors than Excel's 1,048,575 rows: the report is CSV only",
    "企业用户": "Enterprise user", "区级人员": "District officer", "部门经办人": "Department handler",
    "局工作人员": "Bureau staff", "银行人员": "Bank staff", "基金机构人员": "Fund-institution staff",
    "审计人员": "Auditor", "系统管理员": "Administrator",
    "贷款台账": "Loan ledger", "银行数据报送": "Bank data upload", "我的贷款": "My loans", "本行贷款": "Our loans",
    "合同编号、借款人名称或证件号码": "Loan number, borrower name or ID", "借款人类型": "Borrower kind",
    "贷款用途": "Purpose", "银行": "Bank", "贷款合同编号": "Loan number", "借款人": "Borrower", "用途": "Purpose",
    "贷款金额（元）": "Principal (yuan)", "年利率（%%）": "Annual rate (%%)", "放款日期": "Start date",
    "到期日期": "Maturity date", "没有符合条件的贷款。": "No loan matches.", "还没有贷款数据。": "No loans yet.",
    "报送贷款台账": "Upload the loan ledger", "报送记录": "Uploads", "还没有报送记录。": "No uploads yet.",
    "企业": "Enterprise", "个体工商户": "Individual business", "大型": "Large", "中型": "Medium", "小型": "Small",
    "微型": "Micro", "未知": "Unknown",
    "行号": "Row", "列": "Column", "值": "Value", "原因": "Reason",
    # interest subsidy (贷款贴息)
    "贷款贴息": "Interest subsidy", "我的贴息": "My interest subsidy", "本行贴息": "Our loans' subsidy",
    "请输入金额（元），最多两位小数": "Enter an amount in yuan, at most two decimals",
    "金额不能为负数": "The amount cannot be negative", "贴息比例": "Rate", "贴息月数": "Months subsidised",
    "每户上限（元）": "Cap per beneficiary (yuan)", "总预算（元）": "Budget (yuan)",
    "超预算处理": "When over budget", "按现行参数": "As in force", "按比例分配": "Pro rata",
    "全额支付": "Pay in full", "新增贷款窗口起": "Window start", "新增贷款窗口止": "Window end",
    "窗口结束日期早于开始日期": "The window ends before it starts", "截止日期": "Cutoff date",
    "与另一组参数对比（B）": "Compare with other parameters (B)", "备注": "Note",
    "对账文件（CSV 或 XLSX）": "Reconciliation file (CSV or XLSX)",
    "复核": "Review", "审批": "Approve", "拨付": "Release", "作废": "Cancel",
    "复核贴息批次": "Review the subsidy batch",
    "请确认已核对本批次的参数、合计、受益人和贷款明细。复核后须由计算人和复核人以外的第三人审批。":
        "Confirm that you have checked this batch's parameters, totals, beneficiaries and loan lines. After "
        "review, a third person (neither who ran nor who reviewed it) must approve it.",
    "审批贴息批次": "Approve the subsidy batch",
    "审批人必须是计算人和复核人以外的人。审批后即可拨付。":
        "The approver must be someone other than who ran and who reviewed the batch. Once approved it can be "
        "released.",
    "拨付贴息批次": "Release the subsidy batch",
    "拨付将生成支付文件（CSV、XLSX）和控制合计文件，本批次的支付随即计为已付。此操作不可撤销：如有差错，只能在下一批次中更正。":
        "Releasing writes the payment file (CSV, XLSX) and the control totals, and the batch's payments "
        "count as paid from then on. This cannot be undone: a mistake can only be corrected in the next batch.",
    "作废贴息批次": "Cancel the subsidy batch",
    "作废后本批次不支付任何款项，也不能恢复；之后可重新计算。请说明作废原因。":
        "A cancelled batch pays nothing and cannot be restored; a new one can be run afterwards. Please give "
        "the reason.",
    "贴息批次 #%(pk)s 已复核。": "Subsidy batch #%(pk)s is reviewed.",
    "贴息批次 #%(pk)s 已审批。": "Subsidy batch #%(pk)s is approved.",
    "贴息批次 #%(pk)s 已拨付，支付文件已生成。": "Subsidy batch #%(pk)s is released; the payment file is written.",
    "贴息批次 #%(pk)s 已作废。": "Subsidy batch #%(pk)s is cancelled.",
    "万元": "10k yuan", "区未知": "District unknown", "计入": "Counted",
    "贴息批次 #%(pk)s 已计算，请由另一人复核。": "Subsidy batch #%(pk)s is computed; someone else should review it.",
    "本批实付": "Paid in this batch", "贴息金额": "Subsidy", "不计入（全部原因）": "Not counted (any reason)",
    "对账完成：已支付 %(paid)s 笔，失败 %(failed)s 笔，无变化 %(unchanged)s 笔，仍待对账 %(pending)s 笔。":
        "Reconciled: %(paid)s paid, %(failed)s failed, %(unchanged)s unchanged, %(pending)s still pending.",
    "贴息批次": "Subsidy batches", "贴息批次 #%(pk)s（截至 %(cutoff)s）": "Subsidy batch #%(pk)s (cutoff %(cutoff)s)",
    "批次页面": "Batch pages", "概况": "Overview", "受益人": "Beneficiaries", "贷款明细": "Loan lines",
    "银行对账": "Bank reconciliation", "计入贷款": "Loans counted",
    "贴息（封顶前，元）": "Subsidy before the cap (yuan)", "差额（B−A）": "Difference (B−A)",
    "实付（元）": "Paid (yuan)", "应付（元）": "Due (yuan)", "无": "None",
    "是否计入 / 原因": "Counted / reason", "计入利息（元）": "Interest counted (yuan)",
    "贴息金额（元）": "Subsidy (yuan)", "不计入": "Not counted", "结果": "Outcome",
    "本行贷款的贴息情况": "The interest subsidy on our loans",
    "已拨付批次中本行报送的每笔贷款：是否计入贴息、不计入的原因，以及贴息金额。批次是累计计算的，最新批次即截至该日的结果。":
        "Each loan we reported, in the released batches: whether it counted for the subsidy, why not, and its "
        "subsidy. Batches are cumulative: the latest one is the result up to its cutoff.",
    "批次": "Batch", "截至 %(cutoff)s": "cutoff %(cutoff)s", "报送贷款": "Loans reported",
    "计入贴息": "Counted", "贴息金额（封顶前，元）": "Subsidy before the cap (yuan)",
    "不计入原因": "Reason not counted", "笔数": "Loans",
    "该批次中没有本行的贷款。": "None of our loans is in this batch.",
    "还没有已拨付的贴息批次涉及本行的贷款。": "No released subsidy batch concerns our loans yet.",
    "本批实付（元）": "Paid in this batch (yuan)", "分配系数": "Rationing factor", "全额": "In full",
    "计算": "Run", "系统": "System",
    "您计算或复核了此批次，不能由您审批：须由第三人审批。":
        "You ran or reviewed this batch, so you cannot approve it: a third person must.",
    "确定执行此操作吗？": "Do you really want to do this?", "确认%(label)s": "Confirm: %(label)s",
    "取消并返回": "Back without doing it",
    "本批次当前状态为“%(status)s”，不能%(label)s。": "This batch is '%(status)s': it cannot be given '%(label)s'.",
    "返回批次": "Back to the batch", "本批应付（元）": "Due in this batch (yuan)", "操作": "Actions",
    "已拨付：本批次已经完成，不能再更改；如有差错，在下一批次中更正。":
        "Released: this batch is final; any mistake is corrected in the next batch.",
    "已作废：本批次不支付任何款项。": "Cancelled: this batch pays nothing.",
    "您可以查看本批次，但无权操作。": "You may read this batch but not act on it.",
    "支付文件": "Payment file", "控制合计：笔数": "Control totals: count",
    "控制合计：金额（元）": "Control totals: amount (yuan)", "支付文件 SHA-256": "Payment file SHA-256",
    "上传银行对账文件": "Upload the bank's reconciliation", "合计": "Totals",
    "此前已拨付（元）": "Released before (yuan)", "剩余预算（元）": "Budget left (yuan)", "结余（元）": "Unspent (yuan)",
    "多付待追回（元）": "Overpaid, to recover (yuan)", "超预算": "Over budget", "所用参数": "Parameters used",
    "支付状态": "Payment status", "金额（元）": "Amount (yuan)", "贷款计入情况": "Loans counted and not",
    "按区": "By district", "实付金额按区": "Paid by district", "按企业规模": "By size class", "按银行": "By bank",
    "贴息金额按银行": "Subsidy by bank", "状态记录": "History",
    "每个批次按截止日期重新计算各受益人的累计应享贴息，并支付此前批次尚未支付的部分。批次须经计算、复核、审批（三人各不相同）后拨付。":
        "Each batch recomputes every beneficiary's entitlement up to its cutoff and pays what earlier batches "
        "have not. A batch is run, reviewed and approved (by three different people) before it is released.",
    "测算与对比": "Simulate and compare",
    "测算不记录任何支付，可先用现行参数或假设参数试算。":
        "A simulation records nothing: try the parameters in force or what-if ones first.",
    "计算新批次": "Run a new batch",
    "批次 #%(pk)s 尚未拨付或作废，完成前不能计算新批次。":
        "Batch #%(pk)s is neither released nor cancelled; no new batch can be run until it is.",
    "查看": "View", "按该截止日期和当日生效的参数计算并记录一个新批次？":
        "Compute and record a new batch for this cutoff, with the parameters in force on it?",
    "计算批次": "Run the batch",
    "使用截止日期当日生效的项目参数；截止日期须晚于上一已拨付批次。":
        "The parameters in force on the cutoff are used; the cutoff must be after the last released batch's.",
    "按比例": "Pro rata", "没有符合条件的批次。": "No batch matches.", "还没有贴息批次。": "No subsidy batches yet.",
    "可先测算，再计算第一个批次。": "Simulate first, then run the first batch.",
    "受益人名称或证件号码": "Beneficiary name or ID", "受益人类型": "Beneficiary kind", "证件号码": "ID",
    "封顶前贴息（元）": "Subsidy before the cap (yuan)", "应享贴息（元）": "Entitlement (yuan)",
    "此前已付（元）": "Paid before (yuan)", "多付待追回": "Overpaid, to recover",
    "没有符合条件的受益人。": "No beneficiary matches.", "本批次没有受益人。": "This batch has no beneficiaries.",
    "本批次没有贷款明细。": "This batch has no loan lines.", "我的贷款贴息": "My interest subsidy",
    "企业无需申请：合作银行报送贷款和付息数据后，平台按政策自动计算。每个批次重新计算截至当日的累计应享贴息，并支付此前尚未支付的部分。":
        "Nothing to apply for: once the partner banks report loans and interest payments, the platform "
        "computes the subsidy by the policy. Each batch recomputes the entitlement up to its cutoff and pays "
        "what was not paid before.",
    "累计应享贴息（元）": "Entitlement so far (yuan)", "已到账（元）": "Received (yuan)",
    "已拨付待银行确认（元）": "Released, awaiting the bank (yuan)",
    "支付失败，将在下一批次重新支付（元）": "Failed, paid again in the next batch (yuan)",
    "拨付记录": "Payments", "应享贴息（累计，元）": "Entitlement so far (yuan)", "拨付日期": "Released on",
    "已达每户上限": "capped", "预算不足，按比例支付": "budget short: paid pro rata",
    "银行确认于 %(d)s": "confirmed by the bank on %(d)s",
    "已拨付的批次中还没有给您的企业的款项；下表可查看各笔贷款的计算情况。":
        "No payment to your enterprises in the released batches yet; the table below shows how each loan was "
        "counted.",
    "各笔贷款": "Each loan", "合同编号": "Loan number",
    "本批次共 %(n)s 笔贷款，计入 %(e)s 笔，贴息合计 %(s)s 元（每户封顶前）。":
        "%(n)s loans in this batch, %(e)s counted, subsidy %(s)s yuan (before the per-beneficiary cap).",
    "导出全部批次的贷款明细": "Export the loan lines of every batch",
    "该批次中没有您的贷款。": "None of your loans is in this batch.",
    "还没有已拨付的贴息批次涉及您的企业。批次拨付后，这里会显示每笔贷款的计算结果和拨付情况。":
        "No released subsidy batch concerns your enterprises yet. Once one is released, each loan's result and "
        "the payments show here.",
    "列名": "Columns", "可选": "optional",
    "只有已拨付的批次才能对账。": "Only a released batch can be reconciled.",
    "贴息测算": "Subsidy simulation", "贴息测算与对比": "Simulate and compare the subsidy",
    "测算按截止日期和当日生效的参数（可临时改动）计算一个批次会支付多少，扣除已拨付批次已付的部分；不记录任何内容。勾选对比可把两组参数的结果并排比较。":
        "A simulation computes what a batch would pay for the cutoff, with the parameters in force on it (or "
        "what-if changes), less what released batches paid; it records nothing. Tick compare to see two "
        "parameter sets side by side.",
    "测算": "Simulate", "参数 A（留空即用现行参数）": "Parameters A (blank: as in force)",
    "参数 B（仅在对比时使用；留空即用现行参数）": "Parameters B (for comparing only; blank: as in force)",
    "测算结果（截至 %(cutoff)s）": "Simulation (cutoff %(cutoff)s)",
    "测算结果未记录；计算正式批次请到批次列表。": "Nothing was recorded; run a real batch from the batch list.",
    "导出": "Export", "受益人数": "Beneficiaries", "计入贷款笔数": "Loans counted",
    "本批应付合计（元）": "Due in total (yuan)", "本批实付合计（元）": "Paid in total (yuan)",
    "受益人变化": "Beneficiaries changed", "仅在 A：%(a)s；仅在 B：%(b)s；实付不同：%(c)s":
        "only in A: %(a)s; only in B: %(b)s; paid differently: %(c)s",
    "现行": "In force",
    "按实付金额从高到低仅列出前 %(n)s 位（共 %(total)s 位）；完整名单请导出。":
        "Only the first %(n)s by amount paid are listed (of %(total)s); export for the full list.",
    "没有受益人：截至该日期没有计入的贷款。": "No beneficiaries: no loan counts up to this date.",
    "受益人的支付不按银行拆分；此处为各银行计入贷款的贴息（封顶前）。":
        "A beneficiary's payment is not split by bank; this is the subsidy of each bank's counted loans, "
        "before the cap.",
}


def unquote(lines):
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', "\n".join(lines))).encode().decode("unicode_escape").encode(
        "latin-1").decode("utf-8")


def quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _app_tables():
    """Later apps keep their strings in scripts/en/<app>.py (a dict EN of their own)."""
    for path in sorted((Path(__file__).resolve().parent / "en").glob("*.py")):
        scope = runpy.run_path(str(path))
        clash = {k for k in scope["EN"].keys() & EN.keys() if scope["EN"][k] != EN[k]}
        if clash:
            sys.exit(f"{path.name} translates differently what another table has: {sorted(clash)}")
        EN.update(scope["EN"])


def main():
    _app_tables()
    lines = PO.read_text(encoding="utf-8").splitlines()
    out, missing, i = [], [], 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#, fuzzy"):
            i += 1
            continue
        if line.startswith("msgid "):
            block = [line[6:]]
            i += 1
            while i < len(lines) and lines[i].startswith('"'):
                block.append(lines[i])
                i += 1
            msgid = unquote(block)
            out.append("msgid " + block[0])
            out.extend(block[1:])
            # drop the existing msgstr block: it is written anew below
            assert lines[i].startswith("msgstr ")
            i += 1
            while i < len(lines) and lines[i].startswith('"'):
                i += 1
            if not msgid:
                out.append('msgstr ""')
                out.extend(HEADER)
            elif msgid in EN:
                out.append("msgstr " + quote(EN[msgid]))
            else:
                missing.append(msgid)
                out.append('msgstr ""')
            continue
        out.append(line)
        i += 1
    PO.write_text("\n".join(out) + "\n", encoding="utf-8")
    subprocess.run(["msgfmt", "--check", "-o", str(PO.with_suffix(".mo")), str(PO)], check=True)
    if missing:
        print("untranslated:", *missing, sep="\n  ")
        sys.exit(1)


HEADER = [
    '"Project-Id-Version: huiqi\\n"',
    '"PO-Revision-Date: 2026-11-24 00:00+0800\\n"',
    '"Last-Translator: Huiqi developers\\n"',
    '"Language-Team: Huiqi developers\\n"',
    '"Language: en\\n"',
    '"MIME-Version: 1.0\\n"',
    '"Content-Type: text/plain; charset=UTF-8\\n"',
    '"Content-Transfer-Encoding: 8bit\\n"',
    '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"',
]

if __name__ == "__main__":
    main()
