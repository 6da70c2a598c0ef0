from __future__ import annotations

import pytest

from cbt.app import create_app
from cbt.config import Config
from cbt.runtime import of as runtime_of
from tests.support.exam import AUDIT_KEY, plan_exam_day


@pytest.fixture
def exam(tmp_path, lsa_pack):
    return plan_exam_day(f"sqlite:///{tmp_path / 'exam.db'}", lsa_pack)


@pytest.fixture
def app(tmp_path, exam):
    config = Config.from_env(
        {"CBT_INSTANCE_PATH": str(tmp_path / "instance"), "CBT_DATABASE_URL": exam.url, "CBT_AUDIT_KEY": AUDIT_KEY},
        testing=True,
        background=False,
    )
    app = create_app(config, now=exam.clock)
    yield app
    runtime_of(app).writer.stop()
    runtime_of(app).engine.dispose()


class Candidate:
    """A candidate's browser, speaking the JSON API through the test client."""

    def __init__(self, app, spec) -> None:
        self.client = app.test_client()
        self.spec = spec
        self.csrf = ""

    def login(self, ticket=None, id_number=None):
        response = self.client.post(
            "/api/v1/candidate/login",
            json={"ticket": ticket or self.spec.ticket, "id_number": id_number or self.spec.id_number},
        )
        if response.status_code == 200:
            self.csrf = response.json["csrf_token"]
        return response

    def post(self, path, **kw):
        return self.client.post(path, headers={"X-CSRF-Token": self.csrf}, **kw)

    def put(self, path, **kw):
        return self.client.put(path, headers={"X-CSRF-Token": self.csrf}, **kw)

    def get(self, path):
        return self.client.get(path)

    def start(self):
        return self.post("/api/v1/candidate/attempt/start")

    def attempt(self):
        return self.get("/api/v1/candidate/attempt")

    def save(self, question_id, answer, seq):
        return self.put(f"/api/v1/candidate/attempt/responses/{question_id}", json={"answer": answer, "seq": seq})

    def submit(self):
        return self.post("/api/v1/candidate/attempt/submit")


@pytest.fixture
def candidate(app, exam):
    def make(level=3):
        return Candidate(app, exam.account(level))

    return make
