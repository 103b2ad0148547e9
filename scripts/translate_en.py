"""Fill English msgstrs of huiqi/locale/en/LC_MESSAGES/django.po from the table below, then compile.

Run after `huiqi makemessages -l en`: python scripts/translate_en.py
Strings missing from the table are listed so they can be added here (the table is the source).
"""

import re
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
    "企业用户": "Enterprise user", "区级人员": "District officer", "部门经办人": "Department handler",
    "局工作人员": "Bureau staff", "银行人员": "Bank staff", "基金机构人员": "Fund-institution staff",
    "审计人员": "Auditor", "系统管理员": "Administrator",
    "贷款台账": "Loan ledger", "银行数据报送": "Bank data upload", "我的贷款": "My loans", "本行贷款": "Our loans",
    "合同编号、借款人名称或证件号码": "Loan number, borrower name or ID", "借款人类型": "Borrower kind",
    "贷款用途": "Purpose", "银行": "Bank", "贷款合同编号": "Loan number", "借款人": "Borrower", "用途": "Purpose",
    "贷款金额（元）": "Principal (yuan)", "年利率（%%）": "Annual rate (%%)", "放款日期": "Start date",
    "到期日期": "Maturity date", "没有符合条件的贷款。": "No loan matches.", "还没有贷款数据。": "No loans yet.",
    "报送贷款台账": "Upload the loan ledger", "报送记录": "Uploads", "还没有报送记录。": "No uploads yet.",
    "行号": "Row", "列": "Column", "值": "Value", "原因": "Reason",
}


def unquote(lines):
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', "\n".join(lines))).encode().decode("unicode_escape").encode(
        "latin-1").decode("utf-8")


def quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
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
