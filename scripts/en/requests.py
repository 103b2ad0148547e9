"""English strings of the enterprise requests (深i企) pages."""

EN = {
    "企业诉求": "Enterprise requests", "我的诉求": "My requests", "诉求类别": "Category", "标题": "Title",
    "诉求内容": "Description", "电子邮箱": "E-mail", "企业统一社会信用代码": "Enterprise USCC",
    "来电企业的统一社会信用代码（18 位）": "The calling enterprise's unified social credit code (18 characters)",
    "诉求已提交，编号 %(number)s。": "Request filed, number %(number)s.",
    "已统一答复 %(n)s 件诉求，通知 %(e)s 家企业。": "Answered %(n)s requests together and told %(e)s enterprises.",
    "件": "requests", "诉求": "Requests", "已办结": "Closed", "已超期": "Overdue", "临近期限": "Deadline near",
    "督办": "Supervised", "计时暂停": "Clock paused", "类别": "Category", "渠道": "Channel",
    "责任部门": "Department", "签收期限": "Accept by", "已于": "accepted", "签收": "Accept",
    "答复期限": "Answer by", "含暂停顺延 %(n)s 个工作日": "includes %(n)s working days paused",
    "共性问题": "Common problems", "满意度": "Rating", "答复": "Answer", "办理": "Handle",
    "开始办理": "Start work", "请企业补充（计时暂停）": "Ask the enterprise for more (the clock pauses)",
    "请企业补充": "Ask the enterprise", "补充说明": "Your reply", "提交补充": "Send reply",
    "答复模板": "Response template", "答复内容": "Answer", "答复企业": "Answer the enterprise",
    "评价": "Comment", "确认办结并评价": "Confirm, rate and close", "重办理由": "Why it must be reopened",
    "申请重办": "Reopen", "延期（工作日）": "Extension (working days)", "延期理由": "Reason for the extension",
    "申请延期": "Ask for an extension", "转办至": "Transfer to", "理由": "Reason", "转办": "Transfer",
    "退回理由": "Reason for sending back", "退回": "Send back",
    "改为类别（重新分派）": "Change the category (routes again)", "修改类别": "Change category",
    "归并至共性问题": "Link to a common problem", "新建共性问题": "New common problem",
    "新共性问题标题": "Title of the new common problem", "归并": "Link",
    "督办意见": "Supervision note", "内部备注（企业不可见）": "Internal note (hidden from the enterprise)",
    "添加备注": "Add note", "延期申请": "Extensions", "%(n)s 个工作日": "%(n)s working days",
    "批准": "Approve", "不批准": "Refuse", "相似的未办结诉求": "Similar open requests", "相似度": "similarity",
    "内部": "internal", "诉求统计": "Request figures",
    "%(e)s 家企业，%(n)s 件诉求，办结 %(c)s 件。": "%(e)s enterprises, %(n)s requests, %(c)s closed.",
    "提交日期起": "Filed from", "提交日期止": "Filed until", "服务企业": "Enterprises served",
    "按时签收率": "Accepted on time", "按时答复率": "Answered on time",
    "平均答复用时（小时）": "Average time to answer (hours)", "重办率": "Reopened",
    "平均满意度（1–5）": "Average rating (1–5)", "满意率（4 分及以上）": "Satisfied (4 or 5)",
    "没有数据。": "No data.", "我的消息": "My messages", "新": "new", "没有消息。": "No messages.",
    "深i企：企业提出问题和需求，政府部门限时签收、办理、答复，企业随时查看进度。期限按法定工作日（含调休）计算。":
        "深i企: enterprises state a problem or a need; departments accept, handle and answer it within set "
        "times, and the enterprise follows the progress. Deadlines count official working days (with make-up days).",
    "登记来电诉求": "File a call", "提出诉求": "New request", "未办结": "Not closed", "期限": "Deadline",
    "已升级": "Escalated", "督办中": "Under supervision", "编号、标题或企业名称": "Number, title or enterprise",
    "部门请您补充材料，计时已暂停。": "The department asks you for more information; the clock is paused.",
    "已答复，请确认并评价。": "Answered: please confirm and rate.", "编号": "Number", "当前期限": "Due",
    "临近": "Near", "没有符合条件的诉求。": "No request matches.", "还没有诉求。": "No requests yet.",
    "登记来电诉求（12345 热线）": "File a call (12345 hotline)",
    "企业信息（来自企业名录）": "Enterprise (from the registry)", "名称": "Name", "来电人": "Caller",
    "可上传 PDF、图片、Word、Excel，每个不超过 10 MB，最多 5 个。":
        "PDF, images, Word or Excel; up to 5 files of at most 10 MB each.",
    "提交": "Submit", "各类诉求的责任部门和时限": "Departments and deadlines by category",
    "默认责任部门": "Default department", "签收（工作日）": "Accept (working days)",
    "答复（工作日）": "Answer (working days)", "统一答复": "Joint answer", "没有关联的诉求。": "No linked requests.",
    "统一答复（答复所有未答复的关联诉求，并通知每一家企业）":
        "Joint answer (answers every linked request not yet answered and tells every enterprise)",
    "多家企业反映的同类问题归并在一起，统一答复并通知每一家企业。在诉求页面可将诉求归并到共性问题。":
        "Requests about the same problem from many enterprises are linked here, answered together, and every "
        "enterprise is told. Link a request from its page.",
    "牵头部门": "Lead department", "未答复": "Not answered", "还没有共性问题。": "No common problems yet.",
    "已签收。": "Accepted.", "已开始办理。": "Work started.", "已请企业补充，计时暂停。":
        "The enterprise was asked for more; the clock is paused.", "已补充，计时恢复。": "Reply sent; the clock runs again.",
    "已答复。": "Answered.", "感谢评价，诉求已办结。": "Thank you for rating; the request is closed.",
    "已申请重办。": "Reopened.", "已退回。": "Sent back.", "已转办。": "Transferred.", "已添加备注。": "Note added.",
    "已督办。": "Supervision opened.", "已提交延期申请。": "Extension asked for.",
    "已审批延期申请。": "Extension decided.", "已修改类别并重新分派。": "Category changed and routed again.",
    "已归并至共性问题。": "Linked to the common problem.", "按渠道": "By channel", "按类别": "By category",
    "按区": "By district", "按责任部门": "By department",
    "答复后将通知企业，答复内容不能修改。确认答复？":
        "The enterprise will be told and the answer cannot be changed. Send the answer?",
    "办结后不能再申请重办。确认办结并提交评价？": "A closed request cannot be reopened. Close it and send the rating?",
    "确认将该诉求转至所选部门办理？": "Transfer this request to the chosen department?",
    "确认将该诉求退回市中小企业服务局重新分派？": "Send this request back to the SME service bureau to be routed again?",
    "确认督办该诉求？责任部门及其负责人将收到通知。":
        "Open supervision of this request? The department and its head will be told.",
    "确认批准该延期申请？答复期限将相应顺延。": "Approve this extension? The deadline to answer moves accordingly.",
    "确认不批准该延期申请？": "Refuse this extension?",
    "将统一答复所有未答复的关联诉求，并通知每一家企业。确认？":
        "Every linked request not yet answered gets this answer and every enterprise is told. Go ahead?",
}
