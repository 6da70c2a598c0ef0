"""Fuzzing the candidate API against its own OpenAPI document (schemathesis strategies, driven by
hypothesis, in process): signed in as a candidate with an attempt running, no generated request gets
a 5xx, and every refusal is the typed ``{error, message}``."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.web.test_realtime import crew, staff_login  # noqa: F401 (crew is a fixture)


def test_no_generated_request_breaks_the_api(app, candidate, crew):  # noqa: F811
    c = candidate(3)
    c.login()
    c.start()
    proctor, proctor_headers = staff_login(app, "p1")
    as_candidate = ({"X-CSRF-Token": c.csrf}, {"cbt_session": c.client.get_cookie("cbt_session").value})
    as_proctor = (proctor_headers, {"cbt_session": proctor.get_cookie("cbt_session").value})
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20, "the candidate and the proctor API"
    seen = []

    @given(case=st.one_of(*(op.as_strategy() for op in operations)))
    @settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
    def fuzz(case) -> None:
        if case.path.endswith("/logout") or case.path.endswith("/login"):
            return  # staying signed in keeps the rest reachable (login is fuzzed by test_hostile_input)
        headers, cookies = as_proctor if case.path.startswith("/api/v1/proctor") else as_candidate
        response = case.call(headers=headers, cookies=cookies)
        seen.append((case.method, case.path, response.status_code))
        assert response.status_code < 500, (case.method, case.path, case.body, response.text[:300])
        if response.status_code >= 400:
            body = response.json()
            assert body.get("error") and body.get("message"), (case.method, case.path, body)

    fuzz()
    paths, statuses = {p for _, p, _ in seen}, sorted({s for _, _, s in seen})
    print(f"\n[fuzz] {len(seen)} requests over {len(paths)} paths; statuses {statuses}")
    assert len(paths) >= 15, "the fuzzer reached most operations"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=20,
)
FIELDS = ["question_id", "answer", "seq", "kind", "seconds", "message_id", "room_id", "session_id"]
PAYLOADS = JSON | st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=4)


def test_no_socket_payload_goes_unanswered(app, candidate, crew):  # noqa: F811
    """Every event of both namespaces answers whatever a client sends: a reply, never silence."""
    from tests.web.test_realtime import exam_socket, monitor

    c = candidate(3)
    c.login()
    sock, mon = exam_socket(app, c), monitor(app, crew["proctor"])

    @given(event=st.sampled_from(["start", "save", "submit", "signal", "ack", "watch"]), payload=PAYLOADS)
    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
    def fuzz(event: str, payload: object) -> None:
        client, namespace = (mon, "/monitor") if event == "watch" else (sock, "/exam")
        reply = client.emit(event, payload, namespace=namespace, callback=True)
        assert isinstance(reply, dict) and reply, (event, payload, reply)
        assert reply.get("error") is None or reply.get("status", 400) < 500, (event, payload, reply)

    fuzz()
