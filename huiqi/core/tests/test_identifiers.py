"""Identifier validation: GB 32100 (USCC) and GB 11643 (resident ID). No Django needed."""

from __future__ import annotations

import datetime
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huiqi.core.errors import ValidationFailed
from huiqi.core.identifiers import (
    USCC_ALPHABET,
    generate_resident_id,
    generate_uscc,
    mask_resident_id,
    normalize_uscc,
    org_code_check_char,
    resident_id_check_char,
    resident_id_birth_date,
    uscc_check_char,
    uscc_entity_kind,
    validate_resident_id,
    validate_uscc,
)

KNOWN_GOOD_USCC = ["91440300708461136T", "914403001922038216"]
TODAY = datetime.date(2026, 5, 1)


def _code(fn, *args, **kwargs) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as exc:
        fn(*args, **kwargs)
    return exc.value


# --- USCC -------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", KNOWN_GOOD_USCC)
def test_known_good_uscc_pass_both_checks(code):
    assert org_code_check_char(code[8:16]) == code[16]
    assert uscc_check_char(code[:17]) == code[17]
    assert validate_uscc(code) == code


def test_org_code_check_examples():
    assert org_code_check_char("70846113") == "6"
    assert org_code_check_char("19220382") == "1"


def test_lower_case_is_upper_cased():
    assert validate_uscc("91440300708461136t") == "91440300708461136T"


@pytest.mark.parametrize("padded", [" 91440300708461136T ", "\t91440300708461136T\n", "\u300091440300708461136T\u3000"])
def test_surrounding_whitespace_trimmed(padded):
    assert normalize_uscc(padded) == "91440300708461136T"
    assert validate_uscc(padded) == "91440300708461136T"


def test_wrong_final_check_char():
    err = _code(validate_uscc, "91440300708461136A")
    assert err.code == "uscc.check"
    assert err.field == "uscc"
    assert "T" in err.en and "should be T" in err.en
    assert "校验码应为 T" in err.zh


def test_wrong_org_check_char():
    # Position 17 altered, position 18 recomputed so only the organisation-code check fails.
    first17 = "9144030070846113" + "7"
    err = _code(validate_uscc, first17 + uscc_check_char(first17))
    assert err.code == "uscc.org_check"
    assert "should be 6" in err.en and "应为 6" in err.zh


@pytest.mark.parametrize("bad", ["91440300708461136", "91440300708461136TT", "9144"])
def test_uscc_wrong_length(bad):
    err = _code(validate_uscc, bad)
    assert err.code == "uscc.length"
    assert str(len(bad)) in err.en


def test_empty_is_required():
    assert _code(validate_uscc, "  ").code == "uscc.required"
    assert _code(validate_uscc, None).code == "uscc.required"


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_forbidden_letters(letter):
    bad = "91440300708461136" + letter
    err = _code(validate_uscc, bad)
    assert err.code == "uscc.charset"
    assert letter in err.en and "position 18" in err.en


@pytest.mark.parametrize("bad", ["91440300 708461136T", "9144030070846113\u30006T", "914403007084611-6T"])
def test_internal_space_or_other_char(bad):
    err = _code(validate_uscc, bad)
    assert err.code == "uscc.charset"


def test_internal_space_message_names_position():
    err = _code(validate_uscc, "91440300 708461136T")
    assert "space at position 9" in err.en
    assert "空格" in err.zh


def test_division_must_be_digits():
    first17 = "9144A300" + "70846113" + "6"
    err = _code(validate_uscc, first17 + uscc_check_char(first17))
    assert err.code == "uscc.division"


def test_custom_field_name_is_reported():
    assert _code(validate_uscc, "123", field="borrower_uscc").field == "borrower_uscc"


def test_entity_kind():
    assert uscc_entity_kind("91440300708461136T") == "enterprise"
    assert uscc_entity_kind(generate_uscc(random.Random(3), kind="individual_business")) == "individual_business"
    assert uscc_entity_kind("93440300MA5F00000X") == "other"
    assert uscc_entity_kind("12440300708461136T") == "other"


def test_generate_uscc_prefix_and_division():
    code = generate_uscc(random.Random(7), kind="individual_business", division="440306")
    assert code.startswith("92440306")
    with pytest.raises(ValueError):
        generate_uscc(random.Random(7), kind="cooperative")


def test_generated_org_check_x_is_accepted():
    # Find an organisation code whose check character is X; it must still be a valid USCC.
    rng = random.Random(0)
    for _ in range(1000):
        code = generate_uscc(rng)
        if code[16] == "X":
            assert validate_uscc(code) == code
            return
    pytest.fail("no organisation check character X in 1000 draws")


@settings(max_examples=300)
@given(seed=st.integers(min_value=0, max_value=2**32), kind=st.sampled_from(["enterprise", "individual_business"]))
def test_generate_uscc_always_validates(seed, kind):
    code = generate_uscc(random.Random(seed), kind=kind)
    assert validate_uscc(code) == code
    assert uscc_entity_kind(code) == kind


@settings(max_examples=500)
@given(
    seed=st.integers(min_value=0, max_value=2**32),
    pos=st.integers(min_value=0, max_value=17),
    replacement=st.sampled_from(list(USCC_ALPHABET)),
)
def test_single_character_change_is_rejected(seed, pos, replacement):
    code = generate_uscc(random.Random(seed))
    if code[pos] == replacement:
        replacement = USCC_ALPHABET[(USCC_ALPHABET.index(replacement) + 1) % len(USCC_ALPHABET)]
    altered = code[:pos] + replacement + code[pos + 1:]
    with pytest.raises(ValidationFailed):
        validate_uscc(altered)


def test_every_single_change_of_known_good_is_rejected():
    for code in KNOWN_GOOD_USCC:
        for pos in range(18):
            for ch in USCC_ALPHABET:
                if ch != code[pos]:
                    with pytest.raises(ValidationFailed):
                        validate_uscc(code[:pos] + ch + code[pos + 1:])


# --- resident ID ------------------------------------------------------------------------------

VALID_ID = "11010519491231002X"  # the worked example of GB 11643-1999


def test_valid_resident_id():
    assert validate_resident_id(VALID_ID, today=TODAY) == VALID_ID
    assert validate_resident_id("440305199001010018", today=TODAY) == "440305199001010018"


def test_lowercase_x_upper_cased_and_trimmed():
    assert validate_resident_id(" 11010519491231002x\u3000", today=TODAY) == VALID_ID


def test_hong_kong_residence_permit_81():
    assert validate_resident_id("810000199001010019", today=TODAY) == "810000199001010019"


def test_foreigner_permanent_residence_id():
    assert validate_resident_id("944840198503120018", today=TODAY) == "944840198503120018"


def test_foreigner_id_with_bad_province():
    body = "99484019850312001"
    err = _code(validate_resident_id, body + resident_id_check_char(body), today=TODAY)
    assert err.code == "resident_id.province"


@pytest.mark.parametrize("prefix", ["99", "00", "16", "72", "84", "10"])
def test_bad_province(prefix):
    body = prefix + "030519900101001"
    err = _code(validate_resident_id, body + resident_id_check_char(body), today=TODAY)
    assert err.code == "resident_id.province"
    assert prefix in err.en


def test_impossible_birth_date():
    body = "44030519990230123"
    err = _code(validate_resident_id, body + resident_id_check_char(body), today=TODAY)
    assert err.code == "resident_id.birth_date"
    assert "19990230" in err.en and "not a real date" in err.en


def test_future_birth_date():
    body = "44030520260502123"
    err = _code(validate_resident_id, body + resident_id_check_char(body), today=TODAY)
    assert err.code == "resident_id.birth_date"
    assert "future" in err.en
    # Born today is fine.
    body = "44030520260501123"
    assert validate_resident_id(body + resident_id_check_char(body), today=TODAY)


def test_bad_check_char():
    err = _code(validate_resident_id, "110105194912310021", today=TODAY)
    assert err.code == "resident_id.check"
    assert "should be X" in err.en and "应为 X" in err.zh


def test_fifteen_digit_rejected_with_own_code():
    err = _code(validate_resident_id, "110105491231002", today=TODAY)
    assert err.code == "resident_id.legacy_15"
    assert "15" in err.en and "15" in err.zh


@pytest.mark.parametrize("bad", ["1101051949123100", "11010519491231002XX"])
def test_resident_id_wrong_length(bad):
    assert _code(validate_resident_id, bad, today=TODAY).code == "resident_id.length"


@pytest.mark.parametrize("bad", ["11010519491231002Y", "1101051949123A002X", "11010519491231 02X"])
def test_bad_format(bad):
    assert _code(validate_resident_id, bad, today=TODAY).code == "resident_id.format"


def test_errors_never_echo_the_full_number():
    err = _code(validate_resident_id, "110105194912310021", today=TODAY)
    assert "110105194912310021" not in err.zh + err.en


def test_mask():
    assert mask_resident_id("44030519900101123X") == "4403**********123X"
    assert mask_resident_id(VALID_ID) == "1101**********002X"


def test_birth_date():
    assert resident_id_birth_date(VALID_ID) == datetime.date(1949, 12, 31)


@settings(max_examples=300)
@given(
    seed=st.integers(min_value=0, max_value=2**32),
    years=st.tuples(st.integers(1930, 2005), st.integers(0, 20)),
    address=st.sampled_from(["440305", "110105", "310115", "810000", "820000", "830000"]),
)
def test_generate_resident_id_always_validates(seed, years, address):
    lo, span = years
    rid = generate_resident_id(random.Random(seed), birth_year_range=(lo, lo + span), address=address)
    assert validate_resident_id(rid) == rid
    assert lo <= resident_id_birth_date(rid).year <= lo + span
    assert rid.startswith(address)


@settings(max_examples=300)
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_mask_never_shows_middle_digits(seed):
    rid = generate_resident_id(random.Random(seed))
    masked = mask_resident_id(rid)
    assert len(masked) == 18
    assert masked[:4] == rid[:4] and masked[-4:] == rid[-4:]
    assert masked[4:14] == "*" * 10
    assert rid[4:14] not in masked
