"""Benchmark: SSPF at volume. Prints figures; asserts nothing (tests do that).

N cases with name, personnummer and consent, each read once through the CLI path's core (access
decision + decrypt + audit append in one transaction); then the loggkontroll over every entry, the
hash-chain check, the SSPF cycle, and key rotation of every encrypted value.

    .venv/bin/python benchmarks/bench_sspf.py                  # SQLite, 500 cases
    .venv/bin/python benchmarks/bench_sspf.py --cases 5000 --database-url postgresql+psycopg://…
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cryptography.fernet import Fernet
from sqlmodel import select

from cycles.sspf import run_sspf_cycle
from importers.directory_import import import_directory_file
from models import audit
from models.audit import AuditAction, AuditRecord
from models.crypto import Keyring
from models.db import make_engine, migrate, transaction
from models.directory import Organisation, person_by_email
from models.municipality import find_municipality
from models.personnummer import luhn_check_digit
from models.sspf import (
    CaseRole,
    ReferralReason,
    RiskLevel,
    SspfAssignment,
    SspfCase,
    SspfConsent,
    SspfConsentOrganisation,
    SspfRole,
    SspfRoleGrant,
    case_code,
    reencrypt_all,
)
from models.sspf_access import require_case, user_of


def main() -> None:  # noqa: PLR0915 - a benchmark reads best as one script of timed steps
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="bench-sspf-")
    url = args.database_url or f"sqlite:///{work}/bench.db"
    migrate(url)
    engine = make_engine(url)
    keyring = Keyring((Fernet.generate_key().decode(),))
    today = date.today()  # noqa: DTZ011 - the benchmark stands on today
    with transaction(engine) as session:
        _, municipality = import_directory_file(session, REPO / "examples" / "falun-katalog.yaml")
        coordinator = person_by_email(session, municipality.id or 0, "sara.holm@example.se")
        police = session.exec(select(Organisation).where(Organisation.name == "Polisen")).first()
        assert coordinator is not None
        assert police is not None
        session.add(
            SspfRoleGrant(
                municipality_id=municipality.id or 0,
                person_id=coordinator.id or 0,
                role=SspfRole.COORDINATOR,
                granted_at=datetime.now(UTC),
            )
        )
    started = time.perf_counter()
    with transaction(engine) as session:
        for number in range(1, args.cases + 1):
            born = today - timedelta(days=365 * 15 + number % 900)
            nine = f"{born:%y%m%d}{number % 1000:03d}"
            case = SspfCase(
                municipality_id=municipality.id or 0,
                number=number,
                code=case_code(today.year, number),
                opened_on=today - timedelta(days=number % 300),
                name_enc=keyring.encrypt(f"Ung Person {number}"),
                personnummer_enc=keyring.encrypt(f"{born:%Y%m%d}-{nine[6:]}{luhn_check_digit(nine)}"),
                birth_date_enc=keyring.encrypt(born.isoformat()),
                referred_on=today,
                referral_reason=ReferralReason.CRIME,
                risk_level=RiskLevel.MEDIUM,
                coordinator_person_id=coordinator.id,
            )
            session.add(case)
            session.flush()
            session.add(
                SspfAssignment(
                    case_id=case.id or 0,
                    person_id=coordinator.id or 0,
                    role=CaseRole.COORDINATOR,
                    added_at=datetime.now(UTC) - timedelta(days=1),
                )
            )
            consent = SspfConsent(
                case_id=case.id or 0,
                signers=["ung", "vårdnadshavare_1", "vårdnadshavare_2"],
                purpose="SSPF",
                given_on=today,
                review_on=today + timedelta(days=365),
            )
            session.add(consent)
            session.flush()
            session.add(SspfConsentOrganisation(consent_id=consent.id or 0, organisation_id=police.id or 0))
    print(f"seed: {args.cases} cases in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    for number in range(1, args.cases + 1):
        with transaction(engine) as session:
            case = session.get(SspfCase, number)
            assert case is not None
            user = user_of(session, coordinator)
            require_case(session, user, case, birth=None, today=today)
            keyring.decrypt(case.name_enc)
            keyring.decrypt(case.personnummer_enc)
            audit.append(
                session,
                AuditRecord(
                    municipality_id=municipality.id or 0,
                    actor_person_id=coordinator.id,
                    actor=coordinator.email,
                    action=AuditAction.READ,
                    command="arende visa",
                    purpose="bench",
                    within_assignment=True,
                    case_id=case.id,
                    case_code=case.code,
                ),
            )
    elapsed = time.perf_counter() - started
    print(f"audited reads: {args.cases} in {elapsed:.1f} s ({elapsed / args.cases * 1000:.1f} ms each)")

    started = time.perf_counter()
    with transaction(engine) as session:
        report = audit.log_review(
            session, municipality.id or 0, datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
        )
    print(
        f"loggkontroll + chain over {report.entries_checked} entries: {time.perf_counter() - started:.2f} s "
        f"({len(report.outside_assignment)} outside assignment, {len(report.chain_breaks)} breaks)"
    )

    started = time.perf_counter()
    with transaction(engine) as session:
        found = find_municipality(session, "2080")
        assert found is not None
        events = run_sspf_cycle(session, found, today + timedelta(weeks=6), keyring)
    print(
        f"sspf cycle over {args.cases} open cases: {time.perf_counter() - started:.1f} s, {len(events)} tasks"
    )

    rotated = Keyring((Fernet.generate_key().decode(), *keyring.keys))
    started = time.perf_counter()
    with transaction(engine) as session:
        count = reencrypt_all(session, rotated.rotate)
    print(f"key rotation: {count} values in {time.perf_counter() - started:.1f} s")
    engine.dispose()


if __name__ == "__main__":
    main()
