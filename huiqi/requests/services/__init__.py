"""Enterprise-request writes: one function per action, transactional, permission- and state-checked,
each leaving a history step (``RequestEvent``), an audit record and the notifications it causes. By topic:
``intake`` (filing and routing), ``handling`` (the transitions), ``extensions``, ``problems`` (common
problems), ``sweep`` (escalation and automatic closing), ``inbox``; ``common`` holds what they share.
Reads, the people to tell included, are in ``selectors``.

Decisions the issue leaves to the platform:

- **Numbers** read ``SZQ-<submission date>-<id, six digits>``: unique without a counter table and
  quotable on the phone; guessing one gives nothing (reads are scoped, another's number is a 404).
- **Deadlines** are working-day dates (``core.workdays``): to accept counts from the day of submission
  (or of a transfer or send-back), to answer from the day of acceptance (or of a reopening). Waiting for
  the enterprise stops the clock; the reply moves the answer deadline by the working days the wait
  covered, (pause day, reply day]. When the calendar for a year is missing the deadline stays empty and
  the bureau is told to enter the year.
- **Escalation** (``sweep``): once a running deadline has passed, the department's heads are told
  (level 1); when it is more than ``bureau_after_days`` working days past, the SME service bureau is
  told (level 2). One level per sweep; a new deadline (acceptance, transfer, reopening) starts again at 0.
- **Concurrency**: every transition locks the row (``select_for_update``) and writes with a conditional
  UPDATE on the status it read, so of two closes at once one wins and the other gets a clear conflict.
"""

from .extensions import decide_extension, may_decide_extension, request_extension
from .handling import (
    accept,
    add_note,
    answer,
    ask_enterprise,
    change_category,
    close,
    reopen,
    reply,
    send_back,
    start,
    supervise,
    transfer,
)
from .inbox import mark_read
from .intake import check_attachments, route, submit_request
from .problems import answer_common_problem, create_common_problem, link_request
from .sweep import sweep

__all__ = [
    "accept", "add_note", "answer", "answer_common_problem", "ask_enterprise", "change_category",
    "check_attachments", "close", "create_common_problem", "decide_extension", "link_request", "mark_read",
    "may_decide_extension", "reopen", "reply", "request_extension", "route", "send_back", "start",
    "submit_request", "supervise", "sweep", "transfer",
]
