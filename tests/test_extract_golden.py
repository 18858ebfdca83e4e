"""Golden tests: each plain-text seed page must extract to its hand-written record exactly.

Expected records live in seeds/expected/<stem>.json; how they were made is in seeds/expected/README.md.
"""

from __future__ import annotations

import pytest

from helpers import RECORD_FIELDS, SEED_PAGES, load_expected, resolve_extract, seed_stems, text_diff

from crawler import extract  # noqa: E402  (helpers puts the repo root on sys.path)

extract = resolve_extract(extract)

STEMS = seed_stems()
SCALAR_FIELDS = [f for f in RECORD_FIELDS if f != "text"]


def test_every_seed_has_an_expectation():
    assert STEMS, "no seed pages found"
    for stem in STEMS:
        exp = load_expected(stem)
        assert set(exp) == set(RECORD_FIELDS), f"{stem}.json must have exactly the Record fields"


@pytest.fixture(scope="module")
def extracted():
    cache = {}

    def get(stem: str):
        if stem not in cache:
            cache[stem] = extract((SEED_PAGES / f"{stem}.txt").read_bytes())
        return cache[stem]

    return get


@pytest.mark.parametrize("stem", STEMS)
@pytest.mark.parametrize("field", SCALAR_FIELDS)
def test_seed_field(stem, field, extracted):
    exp = load_expected(stem)
    rec = extracted(stem)
    assert getattr(rec, field) == exp[field], f"{stem}: {field}"


@pytest.mark.parametrize("stem", STEMS)
def test_seed_body_exact(stem, extracted):
    exp = load_expected(stem)["text"]
    got = extracted(stem).text
    if got != exp:
        pytest.fail(f"{stem}: body differs from the golden text\n{text_diff(exp, got)}", pytrace=False)


@pytest.mark.parametrize("stem", STEMS)
def test_seed_record_as_a_whole(stem, extracted):
    """The same check through Record.to_dict(): no extra/missing fields, every value equal."""
    assert extracted(stem).to_dict() == load_expected(stem)
