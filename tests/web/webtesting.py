"""Helpers shared by the web tests: the seeded records, ``make_app``, sign-in actions.

The app runs on the suite's database (SQLite, or PostgreSQL with MATCHER_TEST_DATABASE_URL),
with the deterministic "hashing" encoder, a fixed date, a small hand-written set of records with
known ids (below) and, when ``data.synthetic`` is available, a small synthetic population.

Known records:
- REC-A, REC-B: two licensed enterprises; users ``reca`` and ``recb`` belong to them.
- ORD-A1 (REC-A, Japan welders, legal), ORD-A2 (REC-A, Taiwan factory, legal),
  ORD-B1 (REC-B, Taiwan electronics, legal), ORD-BX (REC-B, brokerage fee: blocked).
- W-CONSENT (consents to share, welder), W-PRIVATE (does not consent, welder).
- Application 1: W-CONSENT x ORD-A1 at stage "sent" (REC-A sees the contacts; REC-B does not).
"""

from __future__ import annotations

import datetime as dt

from werkzeug.security import generate_password_hash

from models import Application, JobOrder, LanguageCertificate, Recruiter, StageEvent, User, Worker
from web import create_app
from web.views.db import get_store

TODAY = dt.date(2026, 3, 2)
PASSWORDS = {
    "admin": "admin-pass-123",
    "counsellor": "counsellor-pass-123",
    "reca": "reca-pass-123",
    "recb": "recb-pass-123",
}
# A cheap hash keeps the fixture fast; production uses werkzeug's default (scrypt).
FAST_HASH = "pbkdf2:sha256:1000"


def legal_order(**kw) -> dict:
    base = dict(
        title="Thợ hàn kết cấu thép",
        description="Hàn bán tự động, nhà máy đóng tàu ở Hiroshima",
        country="JP",
        programme="titp",
        required_skills=["hàn", "đọc bản vẽ"],
        language_requirement="JLPT N5",
        min_age=18,
        max_age=35,
        gender="any",
        min_education="lower_secondary",
        min_experience_years=1.0,
        positions=5,
        places_filled=0,
        monthly_wage=180000,
        wage_currency="JPY",
        contract_months=36,
        service_fee_vnd=30_000_000,
        brokerage_fee_vnd=0,
        deposit_vnd=0,
        approval_date=TODAY - dt.timedelta(days=30),
        deadline=TODAY + dt.timedelta(days=60),
        departure_date=TODAY + dt.timedelta(days=150),
        status="open",
        extra={},
    )
    base.update(kw)
    return base


def worker(**kw) -> dict:
    base = dict(
        birth_date=dt.date(1998, 5, 17),
        gender="male",
        commune="Phường Hợp Giang",
        disadvantaged_commune=False,
        ethnicity="Tày",
        education="upper_secondary",
        skills=["hàn", "hàn điện", "đọc bản vẽ"],
        experience=[{"occupation": "thợ hàn", "years": 3.0}],
        language_training="basic",
        preferred_countries=["JP", "TW"],
        preferred_sectors=["cơ khí"],
        min_wage_vnd=15_000_000,
        max_fee_vnd=80_000_000,
        available_from=TODAY,
        consent_share=True,
        consent_date=TODAY - dt.timedelta(days=10),
        phone="0912345678",
        national_id="004098001234",
        active=True,
        extra={},
    )
    base.update(kw)
    return base


def seed(s) -> None:
    s.add_all([
        Recruiter(recruiter_id="REC-A", name="Công ty CP Nhân lực Quốc tế An Bình", licence_no="101/LĐTBXH-GP",
                  licence_date=dt.date(2020, 1, 15), status="active", markets=["JP", "TW"], extra={}),
        Recruiter(recruiter_id="REC-B", name="Công ty TNHH Cung ứng Lao động Bắc Sơn", licence_no="202/LĐTBXH-GP",
                  licence_date=dt.date(2019, 6, 1), status="active", markets=["TW"], extra={}),
    ])
    s.flush()
    s.add_all([
        JobOrder(order_id="ORD-A1", recruiter_id="REC-A", approval_no="A1/2026/DOLAB", **legal_order()),
        JobOrder(order_id="ORD-A2", recruiter_id="REC-A", approval_no="A2/2026/DOLAB", **legal_order(
            title="Công nhân nhà máy cơ khí", country="TW", programme="general", language_requirement=None,
            monthly_wage=30000, wage_currency="TWD", service_fee_vnd=20_000_000)),
        JobOrder(order_id="ORD-B1", recruiter_id="REC-B", approval_no="B1/2026/DOLAB", **legal_order(
            title="Công nhân lắp ráp điện tử", country="TW", programme="general", language_requirement=None,
            required_skills=["lắp ráp", "hàn thiếc"], monthly_wage=30000, wage_currency="TWD",
            service_fee_vnd=20_000_000)),
        JobOrder(order_id="ORD-BX", recruiter_id="REC-B", approval_no="BX/2026/DOLAB", **legal_order(
            title="Thợ hàn (thu phí môi giới)", brokerage_fee_vnd=15_000_000)),
    ])
    consent = Worker(worker_id="W-CONSENT", full_name="Nguyễn Văn Đức", **worker())
    consent.certificates.append(LanguageCertificate(position=0, raw="JLPT N4 (2025-07)", exam="jlpt", language="ja",
                                                    label="N4", level=2, test_date=dt.date(2025, 7, 1)))
    private = Worker(worker_id="W-PRIVATE", full_name="Hoàng Thị Mai", **worker(
        gender="female", consent_share=False, consent_date=None, phone="0987654321", national_id="004198009999",
        commune="Xã Hòa An"))
    private.certificates.append(LanguageCertificate(position=0, raw="JLPT N4 (2025-07)", exam="jlpt", language="ja",
                                                    label="N4", level=2, test_date=dt.date(2025, 7, 1)))
    s.add_all([consent, private])
    s.flush()
    app = Application(id=1, worker_id="W-CONSENT", order_id="ORD-A1", stage="sent", score=0.8, created_by="counsellor")
    app.events.append(StageEvent(from_stage=None, to_stage="shortlisted", by="counsellor"))
    app.events.append(StageEvent(from_stage="shortlisted", to_stage="sent", by="counsellor"))
    s.add(app)
    s.flush()
    if s.bind.dialect.name == "postgresql":  # an explicit id does not move the sequence
        from sqlalchemy import text

        s.execute(text("SELECT setval(pg_get_serial_sequence('applications', 'id'), (SELECT MAX(id) FROM applications))"))
    for name, role, rid in (("admin", "admin", None), ("counsellor", "counsellor", None),
                            ("reca", "recruiter", "REC-A"), ("recb", "recruiter", "REC-B")):
        s.add(User(username=name, password_hash=generate_password_hash(PASSWORDS[name], method=FAST_HASH),
                   role=role, recruiter_id=rid, full_name=name.capitalize(), active=True, failed_logins=0))


def seed_synthetic(s) -> None:
    """A small synthetic population next to the known records, when the generator exists."""
    try:
        from data.synthetic import generate, save
    except ImportError:
        return
    data = generate(seed=7, workers=30, orders=40, recruiters=12, today=TODAY)
    save(s, data)


def make_app(db_url: str, tmp_path, **overrides):
    config = {
        "TESTING": True,
        "database_url": db_url,
        "encoder": "hashing",
        "today": TODAY.isoformat(),
        "instance_path": str(tmp_path / "instance"),
        "secret_key": "test-secret-key",
    }
    config.update(overrides)
    app = create_app(config)
    store = get_store(app)
    store.reset()
    with store.session() as s:
        seed(s)
    with store.session() as s:
        seed_synthetic(s)
    return app



class AuthActions:
    """Sign in through the form (``login``) or directly into the session (``as_user``)."""

    def __init__(self, client):
        self.client = client

    def csrf_token(self, path: str = "/auth/login") -> str:
        import re

        html = self.client.get(path, follow_redirects=True).get_data(as_text=True)
        m = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert m, f"no CSRF token on {path}"
        return m.group(1)

    def login(self, username: str = "counsellor", password: str | None = None):
        token = self.csrf_token()
        return self.client.post(
            "/auth/login",
            data={"username": username, "password": PASSWORDS.get(username, "") if password is None else password,
                  "csrf_token": token},
        )

    def as_user(self, username: str) -> str:
        """Open a server-side session for ``username`` and put its id in the cookie; returns the id."""
        from sqlalchemy import select

        from web.views import sessions

        app = self.client.application
        with app.app_context(), get_store(app).session() as s:
            user = s.scalar(select(User).where(User.username == username))
            raw = sessions.open_session(s, user)
        with self.client.session_transaction() as sess:
            sess.clear()
            sess[sessions.COOKIE_KEY] = raw
        return raw

    def logout(self):
        token = self.csrf_token("/")  # any page with the sign-out form
        return self.client.post("/auth/logout", data={"csrf_token": token})


def csrf_of(html: str) -> str:
    import re

    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)
