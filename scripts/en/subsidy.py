"""English strings of the interest-subsidy pages added since the main table of ``scripts/translate_en.py``."""

EN = {
    "贴息批次正在后台计算，完成后由另一人复核。":
        "The subsidy batch is being computed in the background; once it is done, someone else should review it.",
    "项目结束日": "Program end", "结果文件": "Result files",
    # The bank's reconciliation, by two people.
    "对账文件 #%(pk)s 已核对无误：将标记已支付 %(paid)s 笔、失败 %(failed)s 笔，无变化 %(unchanged)s 笔。须由另一人确认后才生效。":
        "Reconciliation file #%(pk)s checked without error: %(paid)s payments to mark paid, %(failed)s failed, "
        "%(unchanged)s unchanged. It takes effect once someone else confirms it.",
    "对账文件 #%(pk)s 已退回，未做任何更改。": "Reconciliation file #%(pk)s was sent back; nothing was changed.",
    "对账文件 #%(pk)s 待另一人确认": "Reconciliation file #%(pk)s awaits confirmation by someone else",
    "上传": "Uploaded", "将标记已支付": "To mark paid", "将标记失败": "To mark failed",
    "文件已逐行核对无误，但尚未改变任何支付：须由上传人以外的人确认后才生效。支付失败的款项将在下一批次中重新计入应付。":
        "Every row of the file was checked without error, but no payment has changed yet: it takes effect once "
        "someone other than its uploader confirms it. Failed payments are owed again in the next batch.",
    "受益人证件号码": "Beneficiary ID", "改为": "Becomes", "银行说明": "Bank's note",
    "另有 %(n)s 笔未列出。": "%(n)s more not listed.", "确认对账": "Confirm the reconciliation", "撤回": "Withdraw",
    "此文件由您上传，不能由您确认：须由另一人确认。":
        "You uploaded this file and cannot confirm it: someone else must.",
    "上面的对账文件确认或退回之后，才能上传下一个。":
        "The next file can be uploaded once the one above is confirmed or sent back.",
    "银行按支付文件逐笔回报：每行一个受益人证件号码和状态（已支付 paid / 失败 failed），可附金额（与支付文件核对）和备注。只要有一行有误，整个文件不生效；同一状态重复回报不产生变化。上传后须由另一人确认，支付状态才会改变；支付失败的款项在下一批次中重新计入应付。":
        "The bank reports on the payment file row by row: a beneficiary ID and a status (已支付 paid / 失败 failed) "
        "per row, optionally the amount (checked against the payment file) and a note. If any row is wrong, "
        "nothing of the file applies; repeating a status changes nothing. Once uploaded, someone else must "
        "confirm it before any payment's status changes; failed payments are owed again in the next batch.",
    "上传并核对": "Upload and check", "对账记录": "Reconciliations", "确认或退回": "Confirmed or sent back",
    "已支付": "Paid", "失败": "Failed",
}
