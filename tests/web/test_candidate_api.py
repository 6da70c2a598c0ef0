"""The candidate API over HTTP: every bad input gets a clear error and changes nothing."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from cbt.app import create_app
from cbt.config import PROJECT_ROOT, Config
from cbt.db import models
from cbt.runtime import of as runtime_of
from tests.support.exam import T0


def first_question(view, type_):
    for item in view["items"]:
        for q in item.get("questions", [item]):
            if q["type"] == type_:
                return q
    raise AssertionError(type_)


def responses_in_db(app):
    with runtime_of(app).sessions() as s:
        return {(r.attempt_id, r.question_id): (r.answer, r.seq) for r in s.scalars(select(models.Response))}


# --- login ------------------------------------------------------------------------------------------


def test_wrong_pair_says_nothing_about_which_half(candidate):
    c = candidate()
    wrong_id = c.login(id_number="110101199001011234")
    wrong_ticket = c.login(ticket="0000000000")
    assert wrong_id.status_code == wrong_ticket.status_code == 401
    assert wrong_id.json == wrong_ticket.json
    assert wrong_id.json["error"] == "invalid_credentials"


def test_login_input_errors(candidate):
    c = candidate()
    assert c.client.post("/api/v1/candidate/login", data="x", content_type="text/plain").json["error"] == "bad_json"
    assert c.client.post("/api/v1/candidate/login", json=[1]).json["error"] == "bad_json"
    missing = c.client.post("/api/v1/candidate/login", json={"ticket": " "})
    assert (missing.status_code, missing.json["error"]) == (422, "missing_credentials")


def test_repeated_failures_are_rate_limited_then_expire(candidate, exam):
    c = candidate()
    for _ in range(5):
        assert c.login(id_number="110101199001011234").status_code == 401
    blocked = c.login()
    assert blocked.status_code == 429 and blocked.json["error"] == "too_many_attempts"
    exam.clock.advance(minutes=6)
    assert c.login().status_code == 200


def test_login_returns_candidate_and_csrf(candidate):
    c = candidate()
    response = c.login()
    assert response.status_code == 200
    assert response.json["candidate"]["ticket"] == c.spec.ticket
    assert response.json["candidate"]["id_number"].count("*") == 8, "the ID number is masked"
    assert len(response.json["csrf_token"]) > 20


def test_everything_needs_a_login(candidate):
    c = candidate()
    for path in ("/api/v1/candidate/status", "/api/v1/candidate/attempt"):
        response = c.get(path)
        assert (response.status_code, response.json["error"]) == (401, "not_logged_in")
    assert c.get("/exam").status_code == 302


def test_state_changes_need_the_csrf_token(candidate):
    c = candidate()
    c.login()
    c.csrf = "forged"
    response = c.start()
    assert (response.status_code, response.json["error"]) == (403, "csrf_failed")


def test_a_second_login_ends_the_first_and_is_an_incident(app, candidate):
    first, second = candidate(), candidate()
    first.login()
    second.login()
    response = first.get("/api/v1/candidate/status")
    assert (response.status_code, response.json["error"]) == (401, "session_replaced")
    assert second.get("/api/v1/candidate/status").status_code == 200
    with runtime_of(app).sessions() as s:
        kinds = s.scalars(select(models.Incident.kind)).all()
    assert kinds == ["second_login"]


# --- starting -----------------------------------------------------------------------------------------


def test_start_is_refused_before_the_session_opens(tmp_path, lsa_pack):
    from cbt.app import create_app
    from cbt.config import Config
    from tests.support.exam import plan_exam_day
    from tests.web.conftest import Candidate

    day = plan_exam_day(f"sqlite:///{tmp_path / 'later.db'}", lsa_pack, opens_in=600)
    config = Config.from_env({"CBT_INSTANCE_PATH": str(tmp_path / "i"), "CBT_DATABASE_URL": day.url}, background=False)
    app = create_app(config, now=day.clock)
    c = Candidate(app, day.account(4))
    c.login()
    status = c.get("/api/v1/candidate/status").json
    assert status["sessions"][0]["opens_in_seconds"] == 600
    response = c.start()
    assert (response.status_code, response.json["error"]) == (409, "session_not_open")
    assert c.attempt().json["error"] == "attempt_not_started"
    day.clock.advance(seconds=600)
    assert c.start().status_code == 200
    runtime_of(app).writer.stop()


def test_start_returns_the_paper_without_keys(candidate):
    c = candidate(3)
    c.login()
    view = c.start().json
    assert view["part"] == "theory" and view["state"] == "in_progress"
    assert view["remaining_seconds"] == 90 * 60
    types = {q["type"] for item in view["items"] for q in item.get("questions", [item])}
    assert types == {"single", "multiple", "judge"}
    text = json.dumps(view, ensure_ascii=False)
    for field in ('"key"', '"explanation"', '"source"', '"difficulty"'):
        assert field not in text
    assert c.start().json["attempt_id"] == view["attempt_id"], "starting again is harmless"


# --- saving -------------------------------------------------------------------------------------------


def test_save_and_read_back(candidate, exam):
    c = candidate(3)
    c.login()
    view = c.start().json
    q = first_question(view, "multiple")
    options = [o["id"] for o in q["options"]]
    exam.clock.advance(seconds=30)
    response = c.save(q["id"], [options[2], options[0]], 1)
    assert response.status_code == 200
    assert response.json["seq"] == 1 and response.json["stale"] is False
    assert response.json["remaining_seconds"] == 90 * 60 - 30
    saved = c.attempt().json["responses"][q["id"]]
    assert saved == {"answer": sorted([options[2], options[0]]), "seq": 1}


def test_stale_and_duplicate_saves_change_nothing(app, candidate):
    c = candidate(3)
    c.login()
    q = first_question(c.start().json, "single")
    a, b = q["options"][0]["id"], q["options"][1]["id"]
    assert c.save(q["id"], [a], 5).json["seq"] == 5
    stale = c.save(q["id"], [b], 4)
    assert stale.status_code == 200 and stale.json == {**stale.json, "seq": 5, "stale": True}
    duplicate = c.save(q["id"], [b], 5)
    assert duplicate.json["stale"] is True
    assert c.attempt().json["responses"][q["id"]] == {"answer": [a], "seq": 5}
    assert c.save(q["id"], [], 6).json["seq"] == 6, "clearing an answer is a save too"
    assert c.attempt().json["responses"][q["id"]] == {"answer": [], "seq": 6}


def test_bad_saves_get_clear_errors_and_change_nothing(app, candidate):
    c = candidate(3)
    c.login()
    view = c.start().json
    single = first_question(view, "single")
    ids = [o["id"] for o in single["options"]]
    other = candidate(4)
    other.login()
    other_view = other.start().json
    theirs = first_question(other_view, "single")["id"]
    before = responses_in_db(app)
    cases = [
        (c.save(single["id"], ids[:2], 1), 422, "invalid_answer"),  # two options on a single choice
        (c.save(single["id"], ["Z"], 1), 422, "invalid_answer"),  # not an option of the question
        (c.save(single["id"], "A", 1), 422, "invalid_answer"),  # not a list
        (c.save(single["id"], [ids[0]], 0), 422, "invalid_seq"),
        (c.save(single["id"], [ids[0]], "1"), 422, "invalid_seq"),
        (c.save("NO-SUCH-QUESTION", [ids[0]], 1), 404, "unknown_question"),
        (
            c.save(theirs, [ids[0]], 1)
            if theirs not in {q["id"] for i in view["items"] for q in i.get("questions", [i])}
            else None,
            404,
            "unknown_question",
        ),
        (
            c.put(f"/api/v1/candidate/attempt/responses/{single['id']}", data="{", content_type="application/json"),
            400,
            "bad_json",
        ),
        (
            c.put(f"/api/v1/candidate/attempt/responses/{single['id']}", json={"answer": ["A" * 10000], "seq": 1}),
            413,
            "request_entity_too_large",
        ),
    ]
    for response, status, code in cases:
        if response is None:
            continue
        assert (response.status_code, response.json["error"]) == (status, code), response.json
        assert response.json["message"]
    assert responses_in_db(app) == before


def test_saves_before_start_are_refused(candidate):
    c = candidate(3)
    c.login()
    response = c.save("ETH-S001", ["A"], 1)
    assert response.status_code in (404, 409)


# --- time ---------------------------------------------------------------------------------------------


def test_server_owns_the_deadline_with_a_short_grace(app, candidate, exam):
    c = candidate(3)
    c.login()
    view = c.start().json
    q1, q2 = [q for item in view["items"] for q in item.get("questions", [item])][:2]
    c.save(q1["id"], [q1["options"][0]["id"]], 1)
    exam.clock.advance(minutes=90, seconds=3)  # within the grace: accepted, marked late
    late = c.save(q2["id"], [q2["options"][0]["id"]], 1)
    assert late.status_code == 200 and late.json["remaining_seconds"] == 0
    exam.clock.advance(seconds=3)
    refused = c.save(q1["id"], [q1["options"][1]["id"]], 2)
    assert (refused.status_code, refused.json["error"]) == (409, "deadline_passed")
    after = c.attempt().json  # the server submits on its own with what was saved in time
    assert after["state"] == "submitted" and after["submit_reason"] == "deadline"
    assert after["responses"][q1["id"]]["seq"] == 1
    with runtime_of(app).sessions() as s:
        late_flags = dict(s.execute(select(models.Response.question_id, models.Response.late)).all())
    assert late_flags == {q1["id"]: False, q2["id"]: True}


def test_a_wrong_client_clock_changes_nothing(candidate, exam):
    c = candidate(4)
    c.login()
    c.start()
    exam.clock.advance(minutes=10)
    assert c.attempt().json["remaining_seconds"] == 80 * 60
    c.client.environ_base["HTTP_DATE"] = "Thu, 01 Jan 2099 00:00:00 GMT"  # nothing the client says about time counts
    assert c.attempt().json["remaining_seconds"] == 80 * 60


# --- submitting ---------------------------------------------------------------------------------------


def test_submit_scores_and_is_idempotent(app, candidate, exam):
    c = candidate(4)
    c.login()
    view = c.start().json
    for _n, item in enumerate(view["items"][:10]):
        c.save(item["id"], [item["options"][0]["id"]], 1)
    exam.clock.advance(minutes=20)
    first = c.submit()
    assert first.status_code == 200
    assert first.json["state"] == "submitted" and first.json["answered"] == 10
    assert first.json["receipt"] and len(first.json["receipt"]) == 9
    assert c.submit().json == first.json
    closed = c.save(view["items"][0]["id"], [view["items"][0]["options"][1]["id"]], 2)
    assert (closed.status_code, closed.json["error"]) == (409, "attempt_closed")
    with runtime_of(app).sessions() as s:
        attempt = s.get(models.Attempt, view["attempt_id"])
        assert attempt.submit_reason == "candidate"
        assert attempt.score["maximum"] == 100 and set(attempt.score) >= {"points", "total", "passed"}
    status = c.get("/api/v1/candidate/status").json
    assert status["current"] == "skill"
    assert status["sessions"][0]["score"] is None, "scores hidden unless the batch shows them"


def test_theory_then_skill(candidate):
    c = candidate(5)
    c.login()
    c.start()
    c.submit()
    skill = c.start().json
    assert skill["part"] == "skill"
    case = skill["items"][0]
    assert case["type"] == "case" and case["questions"]
    q = case["questions"][0]
    assert c.save(q["id"], [q["options"][0]["id"]], 1).status_code == 200
    assert c.submit().status_code == 200
    assert c.get("/api/v1/candidate/status").json["current"] is None


def test_openapi_describes_the_api(app):
    spec = app.test_client().get("/api/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/candidate/attempt/responses/{question_id}" in spec["paths"]


def test_no_answer_key_reaches_the_candidate(app, candidate, exam, lsa_pack):
    """Collect every candidate-facing payload of a whole exam (pages, static files, JSON) and look for keys."""
    c = candidate(3)
    bodies = [c.get("/").get_data(as_text=True)]
    bodies.append(c.login().get_data(as_text=True))
    bodies += [c.get(p).get_data(as_text=True) for p in ("/exam", "/api/v1/candidate/status", "/exam/photo")]
    scripts = sorted(p.relative_to(PROJECT_ROOT).as_posix() for p in (PROJECT_ROOT / "static/js").rglob("*.js"))
    assert "static/js/exam/boot.js" in scripts
    for static in [f"/{s}" for s in scripts] + ["/static/css/cbt.css"]:
        with c.get(static) as response:
            assert response.status_code == 200, static
            bodies.append(response.get_data(as_text=True))
    for _part in ("theory", "skill"):
        view = c.start()
        bodies.append(view.get_data(as_text=True))
        for item in view.json["items"]:
            for q in item.get("questions", [item]):
                bodies.append(c.save(q["id"], [q["options"][0]["id"]], 1).get_data(as_text=True))
        bodies.append(c.attempt().get_data(as_text=True))
        bodies.append(c.submit().get_data(as_text=True))
        bodies.append(c.get("/api/v1/candidate/status").get_data(as_text=True))
    everything = "\n".join(bodies)
    secrets = {q.explanation for i in lsa_pack.items for q in i.questions}
    assert not [s for s in secrets if s in everything]
    for body in bodies:
        try:
            data = json.loads(body)
        except ValueError:
            continue
        assert not _has_field(data, {"key", "explanation", "source"}), body[:200]


def _has_field(data, names) -> bool:
    if isinstance(data, dict):
        return bool(names & set(data)) or any(_has_field(v, names) for v in data.values())
    if isinstance(data, list):
        return any(_has_field(v, names) for v in data)
    return False


def test_candidates_reach_only_their_own_attempt(app, candidate):
    mine, theirs = candidate(3), candidate(4)
    mine.login()
    theirs.login()
    my_view = mine.start().json
    their_view = theirs.start().json
    assert my_view["attempt_id"] != their_view["attempt_id"]
    my_ids = {q["id"] for i in my_view["items"] for q in i.get("questions", [i])}
    foreign = next(q["id"] for i in their_view["items"] for q in i.get("questions", [i]) if q["id"] not in my_ids)
    before = responses_in_db(app)
    response = mine.save(foreign, ["A"], 1)
    assert (response.status_code, response.json["error"]) == (404, "unknown_question")
    assert responses_in_db(app) == before
    with runtime_of(app).sessions() as s:
        assert s.scalar(select(func.count()).select_from(models.Response)) == 0


def test_clock_starts_at_the_fixture_time():
    assert T0.tzinfo is not None


def test_behind_trusted_proxies_each_client_is_counted_by_its_own_address(tmp_path, exam):
    """Behind the README's reverse proxy every request comes from the proxy: with CBT_TRUSTED_PROXIES
    the forwarded address is the client's, so one seat's typos never lock the room out; without it
    the header is not believed (a guesser cannot spread tries over made-up addresses)."""
    from cbt.web.ratelimit import ADDRESS_TRIES

    def app_with(proxies: str):
        env = {"CBT_INSTANCE_PATH": str(tmp_path / proxies), "CBT_DATABASE_URL": exam.url}
        return create_app(
            Config.from_env({**env, "CBT_TRUSTED_PROXIES": proxies}, testing=True, background=False), now=exam.clock
        )

    for proxies, second_seat in (("1", 200), ("0", 429)):
        app = app_with(proxies)
        client = app.test_client()
        for n in range(ADDRESS_TRIES):  # one seat mistypes, on many tickets
            body = {"ticket": f"99{n:08d}", "id_number": "110101199001011234"}
            assert client.post("/api/v1/candidate/login", json=body, headers=forwarded("10.0.0.1")).status_code == 401
        spec = exam.account(3)
        body = {"ticket": spec.ticket, "id_number": spec.id_number}
        assert client.post("/api/v1/candidate/login", json=body, headers=forwarded("10.0.0.1")).status_code == 429
        elsewhere = client.post("/api/v1/candidate/login", json=body, headers=forwarded("10.0.0.2"))
        assert elsewhere.status_code == second_seat
        runtime_of(app).writer.stop()
        runtime_of(app).engine.dispose()


def forwarded(address: str) -> dict:
    return {"X-Forwarded-For": address, "X-Forwarded-Proto": "http"}
