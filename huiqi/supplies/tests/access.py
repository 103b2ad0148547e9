"""The producers directory in the access matrix (``huiqi/tests/test_access_matrix.py``).

The world gets (``prepare``): ns1 (南山, the matrix enterprise user's) listed as a producer, and a refused
directory file sent by the bureau. The city's readers (bureau, auditors, administrators) read the whole
directory, a district officer its district's producers, an enterprise its own entry (another's is a 404);
departments, banks and institutions have no part in it (403 on the pages, empty lists in the API). Only the
bureau (and administrators) keep it: the new listing and the directory file; the city's readers read the
files."""

from __future__ import annotations

from huiqi.tests.matrix import LOGIN, NF, NO, OK, UNAUTH, row

EXPECT = {
    #                                     anon   ent  ent2 dist dist2 dept bureau bank inst audit admin
    "supplies:index":                row(LOGIN, OK,  OK,  OK,  OK,  NO,  OK,  NO,  NO,  OK,  OK),
    "supplies:export":               row(LOGIN, OK,  OK,  OK,  OK,  NO,  OK,  NO,  NO,  OK,  OK),
    "supplies:new":                  row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  NO,  OK),
    "supplies:producer":             row(LOGIN, OK,  NF,  OK,  NF,  NO,  OK,  NO,  NO,  OK,  OK),
    "supplies:listed":               row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  NO,  OK),
    "supplies:uploads":              row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  OK,  OK),
    "supplies:template":             row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  OK,  OK),
    "supplies:upload_detail":        row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  OK,  OK),
    # A file's confirmation is its sender's (the world's file is the bureau's).
    "supplies:upload_submitted":     row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  NF,  NF),
    "supplies:upload_error_report":  row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  OK,  OK),
    # --- API: the directory scoped (empty for those without a part), the catalogue for everyone ---
    "supplies-producer-list":        row(UNAUTH, OK, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "supplies-producer-detail":      row(UNAUTH, OK, NF,  OK,  NF,  NF,  OK,  NF,  NF,  OK,  OK),
    "supplies-product-list":         row(UNAUTH, OK, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "supplies-product-detail":       row(UNAUTH, OK, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "supplies-directory-file-list":  row(UNAUTH, OK, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "supplies-directory-file-detail": row(UNAUTH, NF, NF, NF,  NF,  NF,  OK,  NF,  NF,  OK,  OK),
}

FILL = {
    "supplies:export": lambda w: {"fmt": "csv"},
    "supplies:producer": lambda w: {"pk": w["supplies_producer"].pk},
    "supplies:listed": lambda w: {"pk": w["supplies_producer"].pk},
    "supplies:template": lambda w: {"kind": "directory", "lang": "zh", "fmt": "csv"},
    "supplies:upload_detail": lambda w: {"pk": w["supplies_upload"].pk},
    "supplies:upload_submitted": lambda w: {"pk": w["supplies_upload"].pk},
    "supplies:upload_error_report": lambda w: {"pk": w["supplies_upload"].pk, "fmt": "csv"},
    "supplies-producer-detail": lambda w: {"pk": w["supplies_producer"].pk},
    "supplies-product-detail": lambda w: {"code": "MASK-SURG"},
    "supplies-directory-file-detail": lambda w: {"pk": w["supplies_upload"].pk},
}

# The bureau keeps the directory: only it (and administrators) send its file.
WRITE_TABLE = {"supplies-directory-file-list": {"post": {"bureau", "admin"}}}


def prepare(world):
    if "supplies_producer" in world:
        return world
    import datetime as dt

    from django.core.files.uploadedfile import SimpleUploadedFile

    from huiqi.supplies import services
    from huiqi.supplies.imports import start_upload

    bureau = world["users"]["bureau"]
    world["supplies_producer"] = services.list_producer(
        bureau, world["ns1"].uscc, dt.date(2020, 1, 25), contact_name="张三",
        products=[services.ProductLine("MASK-SURG", 200_000)])
    world["supplies_upload"] = start_upload(bureau, SimpleUploadedFile(
        "directory.csv", "统一社会信用代码,列入目录日期,产品代码,日产能\nNOPE,2020-01-25,MASK-SURG,-1\n".encode(),
        content_type="text/csv"))
    assert world["supplies_upload"].status == "refused", world["supplies_upload"].message
    return world
