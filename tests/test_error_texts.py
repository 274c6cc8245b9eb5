"""User-facing exception texts: one prefix style, the field named, no spec id, no secret.

Issue 11 item 6; the style is documented in :mod:`gossip_model.core.arguments`:
``Owner.method: <field> <problem>; <what to pass instead>`` for stores, handles
and functions (TH-6 argument checks, SQ-4 / SQ-5 / MIG-5 / PG-1 constructor
arguments), ``TypeName: field ...`` for value types checked by their
constructor (ID-1..ID-13, DL-30.., FS-20, ERR-3). Each case provokes one user
error and checks, via :func:`check_text`:

* the message starts with the expected prefix (built here from the class the
  user called and the method, not copied from the implementation);
* it names the offending field right after the prefix;
* it has a fix after ``;``;
* it carries no spec rule id (``\\b[A-Z]{2,4}-\\d+\\b``);
* it leaks no secret bytes (RED-5, :func:`gossip_model.persistence.conformance.find_leak`)
  where the bad argument held some.

A store also stays untouched by the rejected call (TH-6: nothing pending, nothing
stored). Spec-pinned templates (inmemory.md ERR-4 / ERR-7, backends.md DBE-1,
ST-23, ID-5) are deliberately not held to the prefix rule and are not checked here.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gossip_model.backend import (
    ControlledDoneLedger,
    ControlledFindingsSink,
    PendingWriteId,
)
from gossip_model.identity import (
    ConnectorInstanceIdHash,
    ConnectorTag,
    ItemIdentityKey,
    LogicalTime,
    ObjectVersionId,
    RunId,
    SecretHash,
    TenantId,
    TenantSecretKey,
    encode_u64,
)
from gossip_model.inmemory import InMemoryDoneLedger, InMemoryFindingsSink
from gossip_model.inmemory.done_ledger import DoneLedgerBackend
from gossip_model.inmemory.findings import FindingsBackend
from gossip_model.persistence import (
    DoneLedgerCommitReceipt,
    DoneLedgerKey,
    DurableFindingsCounts,
    FindingsUpsertBatch,
)
from gossip_model.persistence.conformance import find_leak
from gossip_model.persistence.conformance_fixture import sample_fixture
from gossip_model.postgres import PostgresDoneLedger, PostgresFindingsSink
from gossip_model.sqlite import SqliteDoneLedger, SqliteFindingsSink
from tests.builders import fill

SPEC_ID = re.compile(r"\b[A-Z]{2,4}-\d+\b")
#: Bytes that play a secret handed to the wrong parameter; no message may show them.
SECRET = bytes(range(0xA0, 0xC0))
PASSWORD = "hunter2-do-not-print"
FX = sample_fixture(0x21)

ROOT = Path(__file__).resolve().parents[1] / "gossip_model"
#: Modules whose raised texts are user-facing (issue 11 item 6, part 1). The
#: simulation and linearizability reports keep their rule ids (part 2).
USER_FACING = (
    "core",
    "identity.py",
    "persistence",
    "inmemory",
    "sqlite",
    "postgres",
    "db",
    "backend",
)


def check_text(text: str, prefix: str, field: str, secret: bytes | None = None) -> list[str]:
    """Every way ``text`` breaks the style; empty when it conforms."""
    problems = []
    if not text.startswith(f"{prefix}: "):
        problems.append(f"does not start with {prefix!r}")
    head = text[len(prefix) + 2 :]
    if not head.startswith(field):
        problems.append(f"does not name the field {field!r} after the prefix")
    if "; " not in head:
        problems.append("gives no fix after '; '")
    if (found := SPEC_ID.search(text)) is not None:
        problems.append(f"carries the spec id {found.group()}")
    if secret is not None and find_leak(text, secret) is not None:
        problems.append("leaks secret bytes")
    if PASSWORD in text:
        problems.append("leaks the password")
    return problems


# --- the checker itself fails on the old texts (so the tests below can fail) --------------


@pytest.mark.parametrize(
    ("text", "prefix", "field", "problem"),
    [
        (
            "InMemoryDoneLedger.batch_upsert: records must be an iterable of DoneLedgerRecord "
            "(a list or tuple), got int (TH-6)",
            "InMemoryDoneLedger.batch_upsert",
            "records",
            "spec id TH-6",
        ),
        (
            "delay_next_writes: n must be a non-negative int, got -1; pass 0",
            "InMemoryDoneLedger.delay_next_writes",
            "n",
            "start with",
        ),
        ("TenantId requires bytes, got str; pass bytes", "TenantId", "raw", "start with"),
        ("TenantId: must be bytes; pass bytes", "TenantId", "raw", "name the field"),
        ("TenantId: raw must be bytes, got str", "TenantId", "raw", "no fix"),
        (f"TenantId: raw is {SECRET.hex()}; pass 32 bytes", "TenantId", "raw", "leaks secret"),
        (
            f"PostgresDoneLedger.__init__: conninfo {PASSWORD} is bad; pass another",
            "PostgresDoneLedger.__init__",
            "conninfo",
            "password",
        ),
    ],
)
def test_checker_rejects_each_broken_shape(
    text: str, prefix: str, field: str, problem: str
) -> None:
    """The style check catches each kind of broken text (guards the guard)."""
    problems = check_text(text, prefix, field, SECRET)
    assert any(problem in found for found in problems), problems


# --- stores: every public store class ------------------------------------------------------


STORES: dict[str, Callable[[], Any]] = {
    "InMemoryDoneLedger": lambda: InMemoryDoneLedger(auto_complete=False),
    "SqliteDoneLedger": lambda: SqliteDoneLedger(auto_complete=False),
    "ControlledDoneLedger": lambda: ControlledDoneLedger(DoneLedgerBackend(), auto_complete=False),
    "InMemoryFindingsSink": lambda: InMemoryFindingsSink(auto_complete=False),
    "SqliteFindingsSink": lambda: SqliteFindingsSink(auto_complete=False),
    "ControlledFindingsSink": lambda: ControlledFindingsSink(
        FindingsBackend(), auto_complete=False
    ),
}


def _open(request: pytest.FixtureRequest) -> Iterator[Any]:
    store = STORES[request.param]()
    yield store
    close = getattr(store, "close", None)
    if close is not None:
        close()


@pytest.fixture(params=["InMemoryDoneLedger", "SqliteDoneLedger", "ControlledDoneLedger"])
def ledger(request: pytest.FixtureRequest) -> Iterator[Any]:
    yield from _open(request)


@pytest.fixture(params=["InMemoryFindingsSink", "SqliteFindingsSink", "ControlledFindingsSink"])
def sink(request: pytest.FixtureRequest) -> Iterator[Any]:
    yield from _open(request)


#: (method, field, call, exception, secret shown to the store)
StoreCase = tuple[str, str, Callable[[Any], object], type[Exception], bytes | None]

CONTROL_CASES: list[StoreCase] = [
    ("set_auto_complete", "flag", lambda s: s.set_auto_complete(1), TypeError, None),
    ("delay_next_writes", "n", lambda s: s.delay_next_writes(-1), ValueError, None),
    ("fail_next_submissions", "n", lambda s: s.fail_next_submissions(True), TypeError, None),
    ("fail_next_commits", "n", lambda s: s.fail_next_commits(1.5), TypeError, None),
    ("release_next", "order", lambda s: s.release_next("oldest"), TypeError, None),
    ("release_all", "order", lambda s: s.release_all(None), TypeError, None),
    ("release_specific", "op_id", lambda s: s.release_specific(1), TypeError, None),
]

LEDGER_CASES: list[StoreCase] = [
    ("batch_upsert", "records", lambda s: s.batch_upsert(3), TypeError, None),
    ("batch_upsert", "records", lambda s: s.batch_upsert("abc"), TypeError, None),
    ("batch_upsert", "records", lambda s: s.batch_upsert(FX.scanned_record), TypeError, None),
    (
        "batch_upsert",
        "records[1]",
        lambda s: s.batch_upsert([FX.scanned_record, SECRET]),
        TypeError,
        SECRET,
    ),
    ("batch_get", "tenant_id", lambda s: s.batch_get(SECRET, FX.policy, []), TypeError, SECRET),
    ("batch_get", "policy_hash", lambda s: s.batch_get(FX.tenant, "p", []), TypeError, None),
    ("batch_get", "ovid_hashes", lambda s: s.batch_get(FX.tenant, FX.policy, 5), TypeError, None),
    (
        "batch_get",
        "ovid_hashes[0]",
        lambda s: s.batch_get(FX.tenant, FX.policy, [SECRET]),
        TypeError,
        SECRET,
    ),
    ("get_record", "key", lambda s: s.get_record(FX.key.canonical_digest()), TypeError, None),
    (
        "list_done_hashes",
        "tenant_id",
        lambda s: s.list_done_hashes(1, FX.policy),
        TypeError,
        None,
    ),
    (
        "count_done_hashes",
        "policy_hash",
        lambda s: s.count_done_hashes(FX.tenant, None),
        TypeError,
        None,
    ),
    *CONTROL_CASES,
]

SINK_CASES: list[StoreCase] = [
    ("upsert_batch", "batch", lambda s: s.upsert_batch([FX.finding]), TypeError, None),
    (
        "get_finding",
        "tenant_id",
        lambda s: s.get_finding(SECRET, FX.finding.finding_id),
        TypeError,
        SECRET,
    ),
    ("get_finding", "finding_id", lambda s: s.get_finding(FX.tenant, "f"), TypeError, None),
    (
        "get_occurrence",
        "occurrence_id",
        lambda s: s.get_occurrence(FX.tenant, FX.finding.finding_id),
        TypeError,
        None,
    ),
    (
        "get_observation",
        "observation_id",
        lambda s: s.get_observation(FX.tenant, 7),
        TypeError,
        None,
    ),
    *CONTROL_CASES,
]


def _assert_store_case(store: Any, case: StoreCase) -> None:
    method, field, call, exc, secret = case
    with pytest.raises(exc) as info:
        call(store)
    prefix = f"{type(store).__name__}.{method}"
    assert check_text(str(info.value), prefix, field, secret) == []
    # TH-6: a rejected argument changes nothing.
    assert store.pending_count() == 0


@pytest.mark.parametrize("case", LEDGER_CASES, ids=lambda c: f"{c[0]}-{c[1]}")
def test_th6_ledger_argument_errors_follow_the_style(ledger: Any, case: StoreCase) -> None:
    """TH-6: every done-ledger argument error reads ``Store.method: field ...; fix``."""
    _assert_store_case(ledger, case)
    assert ledger.snapshot() == []


@pytest.mark.parametrize("case", SINK_CASES, ids=lambda c: f"{c[0]}-{c[1]}")
def test_th6_sink_argument_errors_follow_the_style(sink: Any, case: StoreCase) -> None:
    """TH-6: every findings-sink argument error reads ``Store.method: field ...; fix``."""
    _assert_store_case(sink, case)
    assert sink.findings_snapshot() == []


@pytest.mark.parametrize(
    ("timeout", "exc"), [("1", TypeError), (True, TypeError), (math.nan, ValueError)]
)
def test_st23_handle_wait_timeout_errors_name_the_handle(
    ledger: Any, timeout: object, exc: type[Exception]
) -> None:
    """ST-23: a bad ``timeout`` names ``<Handle>.wait``; the op stays pending."""
    handle = ledger.batch_upsert([])
    with pytest.raises(exc) as info:
        handle.wait(timeout)
    assert check_text(str(info.value), f"{type(handle).__name__}.wait", "timeout") == []
    assert ledger.pending_count() == 1


def test_st3_deepcopy_and_pickle_refusals_follow_the_style(ledger: Any) -> None:
    """ST-3: the refusals name the store and point to the alternative."""
    import copy
    import pickle

    name = type(ledger).__name__
    with pytest.raises(TypeError) as info:
        copy.deepcopy(ledger)
    assert info.value.args[0].startswith(f"{name}.__deepcopy__: ")
    assert "clone()" in str(info.value)
    with pytest.raises(TypeError) as info:
        pickle.dumps(ledger)
    assert info.value.args[0].startswith(f"{name}.__reduce_ex__: ")
    assert SPEC_ID.search(str(info.value)) is None


def test_reset_refusal_names_the_store(ledger: Any) -> None:
    """``reset()`` while a write is pending says what to do first."""
    ledger.batch_upsert([])
    with pytest.raises(RuntimeError) as info:
        ledger.reset()
    text = str(info.value)
    assert text.startswith(f"{type(ledger).__name__}.reset: 1 write(s)")
    assert "release them" in text
    assert SPEC_ID.search(text) is None


# --- constructors, including PostgreSQL ones that need no server ---------------------------

#: (class, field, call, exception, secret)
CtorCase = tuple[type, str, Callable[[], object], type[Exception], bytes | None]

CTOR_CASES: list[CtorCase] = [
    (InMemoryDoneLedger, "auto_complete", lambda: InMemoryDoneLedger(1), TypeError, None),
    (
        InMemoryFindingsSink,
        "auto_complete",
        lambda: InMemoryFindingsSink(auto_complete="no"),
        TypeError,
        None,
    ),
    (ControlledDoneLedger, "backend", lambda: ControlledDoneLedger(object()), TypeError, None),
    (ControlledFindingsSink, "backend", lambda: ControlledFindingsSink(3), TypeError, None),
    (SqliteDoneLedger, "database", lambda: SqliteDoneLedger(SECRET), TypeError, SECRET),
    (SqliteDoneLedger, "timeout", lambda: SqliteDoneLedger(timeout="5"), TypeError, None),
    (SqliteDoneLedger, "timeout", lambda: SqliteDoneLedger(timeout=-1), ValueError, None),
    (SqliteDoneLedger, "migrate", lambda: SqliteDoneLedger(migrate=1), TypeError, None),
    (
        SqliteDoneLedger,
        "auto_complete",
        lambda: SqliteDoneLedger(auto_complete=0),
        TypeError,
        None,
    ),
    (
        SqliteFindingsSink,
        "synchronous",
        lambda: SqliteFindingsSink(synchronous=2),
        TypeError,
        None,
    ),
    (
        SqliteFindingsSink,
        "synchronous",
        lambda: SqliteFindingsSink(synchronous="fast"),
        ValueError,
        None,
    ),
    (PostgresDoneLedger, "conninfo", lambda: PostgresDoneLedger(SECRET), TypeError, SECRET),  # type: ignore[arg-type]
    (
        PostgresDoneLedger,
        "conninfo",
        lambda: PostgresDoneLedger(f"password={PASSWORD} host='unterminated"),
        ValueError,
        None,
    ),
    (
        PostgresFindingsSink,
        "conninfo",
        lambda: PostgresFindingsSink(f"postgresql://u:{PASSWORD}@h/db?bogus='"),
        ValueError,
        None,
    ),
    (
        PostgresDoneLedger,
        "migrate",
        lambda: PostgresDoneLedger("host=/nonexistent", migrate="yes"),  # type: ignore[arg-type]
        TypeError,
        None,
    ),
    (
        PostgresFindingsSink,
        "auto_complete",
        lambda: PostgresFindingsSink("host=/nonexistent", auto_complete=1),  # type: ignore[arg-type]
        TypeError,
        None,
    ),
]


@pytest.mark.parametrize(
    "case", CTOR_CASES, ids=lambda c: f"{c[0].__name__}-{c[1]}-{c[3].__name__}"
)
def test_constructor_errors_follow_the_style(case: CtorCase) -> None:
    """SQ-4, SQ-5, MIG-5, PG-1, ST-2: ``Store.__init__: field ...; fix``, before any I/O."""
    cls, field, call, exc, secret = case
    with pytest.raises(exc) as info:
        call()
    assert check_text(str(info.value), f"{cls.__name__}.__init__", field, secret) == []


# --- value types -------------------------------------------------------------------------

#: (prefix, field, call, exception, secret)
ValueCase = tuple[str, str, Callable[[], object], type[Exception], bytes | None]

VALUE_CASES: list[ValueCase] = [
    ("TenantId", "raw", lambda: TenantId("ab"), TypeError, None),  # type: ignore[arg-type]
    ("TenantId", "raw", lambda: TenantId(SECRET[:3]), ValueError, SECRET[:3]),
    ("SecretHash", "raw", lambda: SecretHash(SECRET[:31]), ValueError, SECRET[:31]),
    ("TenantSecretKey", "raw", lambda: TenantSecretKey(SECRET[:16]), ValueError, SECRET[:16]),
    ("RunId", "value", lambda: RunId(-1), ValueError, None),
    ("LogicalTime", "value", lambda: LogicalTime(True), TypeError, None),
    ("PendingWriteId", "value", lambda: PendingWriteId("1"), TypeError, None),  # type: ignore[arg-type]
    ("PendingWriteId", "value", lambda: PendingWriteId(2**64), ValueError, None),
    ("ConnectorTag", "raw", lambda: ConnectorTag(b"short"), ValueError, None),
    ("ConnectorTag.from_ascii", "tag", lambda: ConnectorTag.from_ascii(""), ValueError, None),
    ("ConnectorTag.from_ascii", "tag", lambda: ConnectorTag.from_ascii("x" * 9), ValueError, None),
    ("ConnectorTag.from_ascii", "tag", lambda: ConnectorTag.from_ascii("a b"), ValueError, None),
    (
        "ConnectorInstanceIdHash.from_instance_id_bytes",
        "instance_id",
        lambda: ConnectorInstanceIdHash.from_instance_id_bytes(b""),
        ValueError,
        None,
    ),
    (
        "ObjectVersionId.from_version_bytes",
        "version",
        lambda: ObjectVersionId.from_version_bytes("v1"),  # type: ignore[arg-type]
        TypeError,
        None,
    ),
    (
        "ItemIdentityKey",
        "locator",
        lambda: ItemIdentityKey(
            ConnectorTag.from_ascii("git"),
            ConnectorInstanceIdHash.from_instance_id_bytes(b"i"),
            b"",
        ),
        ValueError,
        None,
    ),
    (
        "DoneLedgerKey",
        "tenant_id",
        lambda: DoneLedgerKey(SECRET, FX.policy, FX.ovid_hash),  # type: ignore[arg-type]
        TypeError,
        SECRET,
    ),
    (
        "DoneLedgerRecord",
        "bytes_scanned",
        lambda: dataclasses.replace(FX.scanned_record, bytes_scanned=-1),
        ValueError,
        None,
    ),
    (
        "DoneLedgerRecord",
        "findings_count",
        lambda: dataclasses.replace(FX.scanned_record, findings_count="3"),
        TypeError,
        None,
    ),
    (
        "DoneLedgerRecord.merge",
        "incoming",
        lambda: FX.scanned_record.merge(FX.finding),  # type: ignore[arg-type]
        TypeError,
        None,
    ),
    (
        "DoneLedgerCommitReceipt",
        "record_count",
        lambda: DoneLedgerCommitReceipt(-1, 0, 0),
        ValueError,
        None,
    ),
    (
        "DurableFindingsCounts",
        "findings",
        lambda: DurableFindingsCounts(None, 0, 0),
        TypeError,
        None,
    ),  # type: ignore[arg-type]
    ("FindingsUpsertBatch", "findings", lambda: FindingsUpsertBatch(findings=3), TypeError, None),  # type: ignore[arg-type]
    (
        "FindingsUpsertBatch",
        "occurrences[0]",
        lambda: FindingsUpsertBatch(occurrences=[FX.finding]),  # type: ignore[list-item]
        TypeError,
        None,
    ),
    (
        "OccurrenceRecord",
        "byte_offset",
        lambda: dataclasses.replace(FX.occurrence, byte_offset=-1),
        ValueError,
        None,
    ),
    (
        "ObservationRecord",
        "seen_at",
        lambda: dataclasses.replace(FX.observation, seen_at=5),
        TypeError,
        None,
    ),
    ("encode_u64", "value", lambda: encode_u64(2**64), ValueError, None),
    ("sample_fixture", "seed", lambda: sample_fixture(0x100), ValueError, None),
]


def test_type_errors_say_how_to_wrap_a_bare_value() -> None:
    """A bare int or bytes where an id type belongs: the fix names the wrapping call."""
    with pytest.raises(TypeError, match=r"; wrap the int: LogicalTime\(5\)$"):
        dataclasses.replace(FX.observation, seen_at=5)
    with pytest.raises(TypeError, match=r"; wrap the bytes: TenantId\(raw\)$"):
        DoneLedgerKey(fill(0x01), FX.policy, FX.ovid_hash)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"; pass a PolicyHash$"):
        DoneLedgerKey(FX.tenant, True, FX.ovid_hash)  # type: ignore[arg-type]


@pytest.mark.parametrize("case", VALUE_CASES, ids=lambda c: f"{c[0]}-{c[1]}-{c[3].__name__}")
def test_value_type_errors_follow_the_style(case: ValueCase) -> None:
    """ID-1..ID-13, ERR-3, DL-30.., FS-20: ``TypeName: field ...; fix``, sizes not contents."""
    prefix, field, call, exc, secret = case
    with pytest.raises(exc) as info:
        call()
    assert check_text(str(info.value), prefix, field, secret) == []


# --- no spec id in any raised text of the user-facing modules -------------------------------


def _raised_texts(path: Path) -> Iterator[tuple[int, str]]:
    """String pieces inside ``raise`` statements and ``_message`` methods of one module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) or (
            isinstance(node, ast.FunctionDef) and node.name == "_message"
        ):
            docstring = _docstring(node)
            for inner in ast.walk(node):
                if (
                    isinstance(inner, ast.Constant)
                    and isinstance(inner.value, str)
                    and inner is not docstring
                ):
                    yield inner.lineno, inner.value


def _docstring(node: ast.AST) -> ast.AST | None:
    body = getattr(node, "body", None)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        return body[0].value
    return None


def _user_facing_modules() -> list[Path]:
    found: list[Path] = []
    for name in USER_FACING:
        target = ROOT / name
        found.extend(sorted(target.rglob("*.py")) if target.is_dir() else [target])
    return found


def test_user_facing_modules_raise_no_spec_ids() -> None:
    """Issue 11 item 6: rule ids live in docstrings, never in a raised text."""
    modules = _user_facing_modules()
    assert len(modules) > 30  # the walk found the package, not an empty directory
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path in modules
        for line, text in _raised_texts(path)
        if SPEC_ID.search(text)
    ]
    assert offenders == []


def test_the_scan_sees_a_spec_id_in_a_raise(tmp_path: Path) -> None:
    """Guards the scan: a planted ``(TH-6)`` inside a raise, or a ``_message``, is found."""
    planted = tmp_path / "planted.py"
    planted.write_text(
        'def f(x):\n    """TH-6: docstrings may cite ids."""\n'
        '    raise TypeError(f"f: x must be int, got {x} (TH-6)")\n'
        "class E:\n    def _message(self):\n        return 'bad (ERR-4)'\n",
        encoding="utf-8",
    )
    found = [text for _, text in _raised_texts(planted) if SPEC_ID.search(text)]
    assert found == [" (TH-6)", "bad (ERR-4)"]
