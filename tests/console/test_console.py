"""The console: sign-in, lockout, CSRF, roles, and claiming from the escalation queue."""

import itertools
import re

import pytest

from bot import create_app
from bot.console.accounts import create_account
from bot.db.models import Escalation

PASSWORD = "correct horse battery"
_names = itertools.count(1)


@pytest.fixture
def app(settings, stack):
    application = create_app(settings)
    application.testing = True
    yield application
    application.extensions["hotline"].close()


@pytest.fixture
def make_account(db):
    def make(role):
        username = f"{role}{next(_names)}"
        with db.session() as session:
            create_account(session, username, PASSWORD, role)
        return username

    return make


def _token(page: bytes) -> str:
    return re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()


def signed_in(app, username, password=PASSWORD):
    client = app.test_client()
    form = client.get("/console/sign-in")
    response = client.post("/console/sign-in", data={"username": username, "password": password, "csrf_token": _token(form.data)})
    return client, response


def test_sign_in_with_wrong_password_is_rejected(app, make_account):
    _, response = signed_in(app, make_account("agent"), password="wrong password!")
    assert response.status_code == 401
    assert b"invalid username or password" in response.data


def test_repeated_failures_lock_the_account(app, make_account):
    username = make_account("agent")
    for _ in range(5):
        signed_in(app, username, password="wrong password!")
    _, response = signed_in(app, username)

    assert response.status_code == 401
    assert b"locked" in response.data


def test_sign_in_without_csrf_token_is_rejected(app, make_account):
    client = app.test_client()
    response = client.post("/console/sign-in", data={"username": make_account("agent"), "password": PASSWORD})
    assert response.status_code == 400


def test_sign_in_refuses_to_redirect_off_site(app, make_account):
    client = app.test_client()
    form = client.get("/console/sign-in")
    response = client.post(
        "/console/sign-in?next=//elsewhere.example/x",
        data={"username": make_account("agent"), "password": PASSWORD, "csrf_token": _token(form.data)},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/console/"


ROUTES = [
    ("GET", "/console/queue"),
    ("POST", "/console/escalations/1/claim"),
    ("GET", "/console/escalations/1"),
    ("POST", "/console/escalations/1/case"),
    ("POST", "/console/escalations/1/call"),
    ("POST", "/console/escalations/1/reveal"),
    ("GET", "/console/reveals"),
    ("POST", "/console/reveals/1"),
    ("GET", "/console/accounts"),
    ("POST", "/console/accounts"),
    ("POST", "/console/accounts/999999/active"),
]
CASE_ROUTES = {
    "/console/queue", "/console/escalations/1/claim", "/console/escalations/1",
    "/console/escalations/1/case", "/console/escalations/1/call", "/console/escalations/1/reveal",
}
ALLOWED = {
    "agent": CASE_ROUTES,
    "supervisor": CASE_ROUTES | {"/console/reveals", "/console/reveals/1"},
    "analyst": set(),
    "administrator": {"/console/accounts", "/console/accounts/999999/active"},
}


@pytest.mark.parametrize("role", sorted(ALLOWED))
@pytest.mark.parametrize("method, path", ROUTES)
def test_each_route_allows_only_its_roles(app, make_account, role, method, path):
    client, _ = signed_in(app, make_account(role))
    token = _token(client.get("/console/sign-in").data)
    response = client.get(path) if method == "GET" else client.post(path, data={"csrf_token": token})

    if path in ALLOWED[role]:
        # 404: the first escalation may have no case in this database.
        assert response.status_code in (200, 302, 404, 422)
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("method, path", ROUTES)
def test_each_route_sends_strangers_to_sign_in(app, method, path):
    client = app.test_client()
    response = client.get(path) if method == "GET" else client.post(path)
    assert response.status_code == 302
    assert "/console/sign-in" in response.headers["Location"]


def test_queue_lists_critical_first_without_numbers(app, make_account, phone, db):
    phone.text("there are children under 15 working in our factory")
    for answer in ("Sunrise Garments", "since january", "1", "1", "2"):
        phone.text(answer)
    client, _ = signed_in(app, make_account("agent"))
    page = client.get("/console/queue").data.decode()

    severities = re.findall(r'data-label="Severity" class="(\w+)"', page)
    assert "critical" in severities
    assert severities == sorted(severities, key=["critical", "normal"].index)
    assert phone.number not in page
    assert phone.number[1:] not in page


def test_claim_gives_escalation_to_one_agent(app, make_account, phone, db, redis_client, settings):
    phone.text("i want to talk to a real person")
    phone.text("monday evening")
    with db.session() as session:
        escalation = session.query(Escalation).order_by(Escalation.id.desc()).first()
    first, _ = signed_in(app, make_account("agent"))
    second, _ = signed_in(app, make_account("agent"))

    token = _token(first.get("/console/queue").data)
    first.post(f"/console/escalations/{escalation.id}/claim", data={"csrf_token": token})
    token = _token(second.get("/console/queue").data)
    response = second.post(f"/console/escalations/{escalation.id}/claim", data={"csrf_token": token}, follow_redirects=True)

    assert b"already claimed" in response.data
    with db.session() as session:
        assert session.get(Escalation, escalation.id).status == "claimed"
    assert redis_client.zscore(f"{settings.redis_prefix}:escalations:queue", str(escalation.id)) is None


def test_administrator_creates_account_but_cannot_read_queue(app, make_account):
    client, _ = signed_in(app, make_account("administrator"))
    token = _token(client.get("/console/accounts").data)
    response = client.post("/console/accounts", data={
        "csrf_token": token, "username": f"newagent{next(_names)}", "password": PASSWORD, "role": "agent",
    })

    assert response.status_code == 302
    assert client.get("/console/queue").status_code == 403


def test_weak_password_is_rejected_with_reason(app, make_account):
    client, _ = signed_in(app, make_account("administrator"))
    token = _token(client.get("/console/accounts").data)
    response = client.post("/console/accounts", data={"csrf_token": token, "username": "shortpw", "password": "short", "role": "agent"})

    assert response.status_code == 422
    assert b"at least 12 characters" in response.data


def test_sign_out_ends_the_session(app, make_account):
    client, _ = signed_in(app, make_account("agent"))
    token = _token(client.get("/console/queue").data)
    client.post("/console/sign-out", data={"csrf_token": token})

    assert client.get("/console/queue").status_code == 302


@pytest.fixture
def translating_app(settings, stack):
    from dataclasses import replace

    from bot.simulator.translate_double import TranslateDouble

    double = TranslateDouble().start()
    application = create_app(replace(settings, translate_base_url=double.base_url))
    application.testing = True
    yield application, double
    application.extensions["hotline"].close()
    double.stop()


def _escalate_in_chinese(phone, db):
    from tests.helpers import escalations_of

    phone.text("我想跟真人说话")
    phone.text("晚上八点以后")
    (escalation,) = escalations_of(db, phone)
    return escalation.id


def test_case_page_shows_original_beside_translation(translating_app, make_account, phone, db):
    app, double = translating_app
    escalation_id = _escalate_in_chinese(phone, db)
    client, _ = signed_in(app, make_account("agent"))

    page = client.get(f"/console/escalations/{escalation_id}").data.decode()

    assert "我想跟真人说话" in page
    assert "[en] 我想跟真人说话" in page
    assert "晚上八点以后" in page
    assert double.requests > 0
    assert phone.number[1:] not in page


def test_case_page_marks_missing_translation(app, settings, make_account, phone, db):
    from dataclasses import replace

    from bot.stack import free_port

    unreachable = create_app(replace(settings, translate_base_url=f"http://127.0.0.1:{free_port()}"))
    unreachable.testing = True
    escalation_id = _escalate_in_chinese(phone, db)
    client, _ = signed_in(unreachable, make_account("agent"))

    page = client.get(f"/console/escalations/{escalation_id}").data.decode()
    unreachable.extensions["hotline"].close()

    assert "我想跟真人说话" in page
    assert "no translation available" in page


def test_case_page_escapes_worker_text(translating_app, make_account, phone, db):
    from tests.helpers import escalations_of

    app, _ = translating_app
    phone.text("hello")
    phone.text("i want to talk to a real person")
    phone.text("tomorrow <script>alert(1)</script>")
    (escalation,) = escalations_of(db, phone)
    escalation_id = escalation.id
    client, _ = signed_in(app, make_account("agent"))

    page = client.get(f"/console/escalations/{escalation_id}").data.decode()

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


@pytest.mark.parametrize("role", ["analyst", "administrator"])
def test_case_page_closed_to_other_roles(app, make_account, role):
    client, _ = signed_in(app, make_account(role))
    assert client.get("/console/escalations/1").status_code == 403


def test_closed_case_reported_to_worker(translating_app, make_account, phone, db, vault):
    from bot.cases import format_reference
    from bot.db.models import AuditTrail, CaseNote
    from tests.helpers import cases_of, escalations_of

    app, _ = translating_app
    phone.text("there are children under 15 working in our factory")
    for answer in ("Sunrise Garments", "since january", "1", "1", "2"):
        phone.text(answer)
    (case,) = cases_of(db, phone)
    (escalation,) = escalations_of(db, phone)
    client, _ = signed_in(app, make_account("agent"))
    token = _token(client.get(f"/console/escalations/{escalation.id}").data)

    response = client.post(
        f"/console/escalations/{escalation.id}/case",
        data={"csrf_token": token, "note": "Called the worker; visit planned.", "category": "child_labour", "status": "closed"},
        follow_redirects=True,
    )

    assert b"Saved: status, note." in response.data
    assert b"Called the worker; visit planned." in response.data
    with db.session() as session:
        (note,) = session.query(CaseNote).filter_by(case_id=case.id).all()
        assert vault.decrypt(note.body_ciphertext) == "Called the worker; visit planned."
        assert session.query(AuditTrail).filter_by(subject=f"case:{case.id}", action="changed_status").count() == 1
    reply = " ".join(phone.text(f"status of {format_reference(case.reference_code)}"))
    assert "closed" in reply.lower()


def test_only_supervisor_reopens_closed_case(translating_app, make_account, phone, db):
    from tests.helpers import cases_of, escalations_of

    app, _ = translating_app
    phone.text("the boss hits workers who are slow")
    for answer in ("Sunrise Garments", "since january", "1", "1", "2"):
        phone.text(answer)
    (case,) = cases_of(db, phone)
    (escalation,) = escalations_of(db, phone)
    agent, _ = signed_in(app, make_account("agent"))
    token = _token(agent.get(f"/console/escalations/{escalation.id}").data)
    agent.post(f"/console/escalations/{escalation.id}/case", data={"csrf_token": token, "status": "closed"})

    response = agent.post(f"/console/escalations/{escalation.id}/case", data={"csrf_token": token, "status": "investigating"}, follow_redirects=True)
    assert b"reopened by a supervisor only" in response.data

    supervisor, _ = signed_in(app, make_account("supervisor"))
    token = _token(supervisor.get(f"/console/escalations/{escalation.id}").data)
    supervisor.post(f"/console/escalations/{escalation.id}/case", data={"csrf_token": token, "status": "investigating"})
    assert cases_of(db, phone)[0].status == "investigating"


def test_masked_call_rings_agent_then_bridges_worker(app, db, vault, phone, twilio, settings):
    from bot.simulator.signing import post_signed
    from tests.helpers import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, escalations_of

    agent_phone = "+12025550177"
    username = f"caller{next(_names)}"
    with db.session() as session:
        create_account(session, username, PASSWORD, "agent", phone=agent_phone, vault=vault)
    phone.text("i want to talk to a real person")
    phone.text("after 6pm")
    (escalation,) = escalations_of(db, phone)
    client, _ = signed_in(app, username)
    token = _token(client.get("/console/queue").data)
    client.post(f"/console/escalations/{escalation.id}/claim", data={"csrf_token": token})

    page = client.post(f"/console/escalations/{escalation.id}/call", data={"csrf_token": token}, follow_redirects=True).data.decode()

    assert "Your phone will ring now" in page
    assert "after 6pm" in page
    assert phone.number not in page
    assert phone.number[1:] not in page
    (placed,) = [c for c in twilio.calls if c.to == agent_phone]
    assert placed.from_ == settings.caller_id
    bridge = post_signed(TEST_AUTH_TOKEN, placed.url, {"CallSid": placed.sid, "AccountSid": TEST_ACCOUNT_SID, "CallStatus": "in-progress"})
    assert bridge.status_code == 200
    assert f"<Number>{phone.number}</Number>" in bridge.text
    assert f'callerId="{settings.caller_id}"' in bridge.text


def test_masked_call_needs_the_claim(app, make_account, phone, db):
    from tests.helpers import escalations_of

    phone.text("i want to talk to a real person")
    phone.text("after 6pm")
    (escalation,) = escalations_of(db, phone)
    client, _ = signed_in(app, make_account("agent"))
    token = _token(client.get("/console/queue").data)

    page = client.post(f"/console/escalations/{escalation.id}/call", data={"csrf_token": token}, follow_redirects=True)
    assert b"claim the escalation before calling" in page.data


def test_number_shown_once_after_supervisor_approval(app, make_account, phone, db):
    from bot.db.models import AuditTrail, RevealRequest
    from tests.helpers import escalations_of

    phone.text("i want to talk to a real person")
    phone.text("after 6pm")
    (escalation,) = escalations_of(db, phone)
    agent, _ = signed_in(app, make_account("agent"))
    token = _token(agent.get(f"/console/escalations/{escalation.id}").data)
    agent.post(f"/console/escalations/{escalation.id}/reveal", data={"csrf_token": token, "reason": "the masked call keeps failing"})
    with db.session() as session:
        request_id = session.query(RevealRequest).filter_by(escalation_id=escalation.id).one().id

    assert agent.post(f"/console/reveals/{request_id}/show", data={"csrf_token": token}).status_code == 403
    assert agent.get("/console/reveals").status_code == 403

    supervisor, _ = signed_in(app, make_account("supervisor"))
    supervisor_token = _token(supervisor.get("/console/reveals").data)
    supervisor.post(f"/console/reveals/{request_id}", data={"csrf_token": supervisor_token, "decision": "approve"})

    shown = agent.post(f"/console/reveals/{request_id}/show", data={"csrf_token": token})
    assert shown.status_code == 200
    assert phone.number in shown.data.decode()
    assert agent.post(f"/console/reveals/{request_id}/show", data={"csrf_token": token}).status_code == 403
    with db.session() as session:
        actions = [row.action for row in session.query(AuditTrail).filter_by(subject=f"escalation:{escalation.id}")]
    assert {"requested_reveal", "approved_reveal", "saw_number"} <= set(actions)


def test_deactivated_account_cannot_sign_in(app, make_account, db):
    from bot.db.models import Account

    username = make_account("agent")
    admin, _ = signed_in(app, make_account("administrator"))
    with db.session() as session:
        target = session.query(Account).filter_by(username=username).one().id
    token = _token(admin.get("/console/accounts").data)
    admin.post(f"/console/accounts/{target}/active", data={"csrf_token": token, "active": "no"})

    _, response = signed_in(app, username)
    assert response.status_code == 401


def test_two_agents_never_take_the_same_worker(app, make_account, phone, db):
    from tests.helpers import escalations_of

    phone.text("i want to talk to a real person")
    phone.text("monday evening")
    phone.text("the boss hits workers who are slow")
    for answer in ("Sunrise Garments", "since january", "1", "1", "2"):
        phone.text(answer)
    first_escalation, second_escalation = escalations_of(db, phone)
    first, _ = signed_in(app, make_account("agent"))
    second, _ = signed_in(app, make_account("agent"))

    token = _token(first.get("/console/queue").data)
    first.post(f"/console/escalations/{first_escalation.id}/claim", data={"csrf_token": token})
    token = _token(second.get("/console/queue").data)
    response = second.post(f"/console/escalations/{second_escalation.id}/claim", data={"csrf_token": token}, follow_redirects=True)

    assert b"already claimed" in response.data
    claimers = {e.claimed_by for e in escalations_of(db, phone)}
    assert len(claimers) == 1
