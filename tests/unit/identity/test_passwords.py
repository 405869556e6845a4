"""Password hashing parameters and the password policy."""

from __future__ import annotations

import re

import pytest

from functions.identity.logic import passwords
from functions.identity.models.api import ChangePasswordRequest, SignUpRequest
from scripts import common_passwords


def test_hashes_are_argon2id_at_owasp_parameters_or_stronger() -> None:
    hashed = passwords.hash_password("correct horse battery staple")

    match = re.match(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$", hashed)
    assert match, hashed
    memory_kib, time_cost, parallelism = (int(g) for g in match.groups())
    assert memory_kib >= 19456
    assert time_cost >= 2
    assert parallelism == 1


def test_a_hash_verifies_its_password_and_nothing_else() -> None:
    hashed = passwords.hash_password("correct horse battery staple")

    assert passwords.verify_password(hashed, "correct horse battery staple")
    assert not passwords.verify_password(hashed, "correct horse battery stapler")
    assert not passwords.verify_password("not-a-hash", "anything")


def test_each_hash_has_its_own_salt() -> None:
    assert passwords.hash_password("same password here") != passwords.hash_password("same password here")


def test_without_a_stored_hash_verification_still_runs_argon2_and_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    verified: list[str] = []
    real = passwords.hasher()

    class Spy:
        def hash(self, password: str) -> str:
            return str(real.hash(password))

        def verify(self, stored: str, password: str) -> bool:
            verified.append(stored)
            return bool(real.verify(stored, password))

    monkeypatch.setattr(passwords, "hasher", lambda: Spy())

    assert passwords.verify_password(None, "whatever they typed") is False
    assert len(verified) == 1
    assert verified[0].startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_hashes_with_weaker_parameters_need_a_rehash() -> None:
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("correct horse battery staple")
    assert passwords.needs_rehash(weak)
    assert not passwords.needs_rehash(passwords.hash_password("correct horse battery staple"))


def test_the_common_password_list_ships_at_least_ten_thousand_lowercase_entries() -> None:
    common = passwords.common_passwords()
    assert len(common) >= 10_000
    assert all(p == p.lower() and 8 <= len(p) <= 128 for p in common)
    assert {"password", "12345678", "iloveyou", "qwertyuiop"} <= common


def test_the_shipped_list_is_what_the_script_generates() -> None:
    assert common_passwords.main(["--check"]) == 0, "run: python -m scripts.common_passwords"


@pytest.mark.parametrize("password", ["password", "PASSWORD", "PassWord1", "iloveyou", "Qwertyuiop"])
def test_common_passwords_are_refused_whatever_their_case(password: str) -> None:
    problem = passwords.policy_problem(password)
    assert problem is not None
    assert "common" in problem


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "at least 8"),
        ("x" * 129, "at most 128"),
        ("password1", "common"),
        ("Alice@Example.com", "email"),
    ],
)
def test_sign_up_refuses_bad_passwords_by_field(password: str, reason: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as raised:
        SignUpRequest(email="alice@example.com", password=password)
    (error,) = raised.value.errors()
    assert error["loc"] == ("password",)
    assert reason in error["msg"]


def test_eight_and_a_hundred_and_twenty_eight_characters_are_accepted() -> None:
    assert SignUpRequest(email="a@example.com", password="kx7#Qm2!").password == "kx7#Qm2!"
    assert len(SignUpRequest(email="a@example.com", password="z" * 128).password) == 128


def test_a_new_password_follows_the_same_policy() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        ChangePasswordRequest(current_password="anything", new_password="baseball1")


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [("  Alice@Example.COM ", "alice@example.com"), ("BOB@EXAMPLE.ORG", "bob@example.org")],
)
def test_emails_are_trimmed_and_case_folded(typed: str, normalised: str) -> None:
    assert SignUpRequest(email=typed, password="correct horse battery staple").email == normalised


@pytest.mark.parametrize("email", ["no-at-sign", "two@@example.com", "a@nodot", "with space@example.com", "@x.io"])
def test_malformed_emails_are_refused(email: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        SignUpRequest(email=email, password="correct horse battery staple")
