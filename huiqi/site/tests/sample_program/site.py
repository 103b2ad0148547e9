from huiqi.core.declarations import DemoStep, EnterpriseProgram, Importer, Nav, Route, Todo

NAVIGATION = [Nav("sample_program:index", "样例项目", "sample_program.view", order=60)]
API_ROUTES = [Route("sample-things", "huiqi.site.tests.sample_program.views.ThingViewSet", "sample-thing")]
LOADED = []


def _load(path, progress):
    LOADED.append(path)

    class Record:
        status, message, error_report = "stored", "1 row stored", ""

    return Record()


IMPORTERS = {"sample": Importer(_load, "a sample file")}
DEMO = [DemoStep(15, lambda scale, seed, progress: f"sample demo built ({scale}, {seed})")]
TODOS = [Todo("sample.things", "待处理的样例", lambda user: 3, "sample_program:index", query={"state": "open"},
              permission="sample_program.view")]
ENTERPRISE_PROGRAMS = [EnterpriseProgram("sample", "样例项目", lambda user, e: {"facts": [("样例", 1)], "url": None})]
