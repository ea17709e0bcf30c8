"""Province spelling and the 2025 merger (parsers.provinces, data from underthesea)."""

from __future__ import annotations

import unicodedata

import pytest

from parsers.provinces import canonical_province, current_province, merged_into, province_names

CANONICAL_CASES = [
    ("Thanh Hóa", "Thanh Hóa"),
    ("Thanh Hoá", "Thanh Hóa"),                       # new-style tone placement
    ("THANH HÓA", "Thanh Hóa"),
    ("tỉnh Thanh Hóa", "Thanh Hóa"),
    ("UBND TỈNH HÒA BÌNH", "Hòa Bình"),
    ("Hoà Bình", "Hòa Bình"),
    (unicodedata.normalize("NFD", "Quảng Ngãi"), "Quảng Ngãi"),
    ("Sở Y tế Đồng Nai", "Đồng Nai"),
    ("Dak Lak", "Đắk Lắk"),                            # OCR without diacritics
    ("Thừa Thiên Huế", "Huế"),                         # alias file
    ("TP HCM", "Hồ Chí Minh"),
    ("thành phố Đà Nẵng", "Đà Nẵng"),
    ("Không phải tỉnh", None),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize("name,expected", CANONICAL_CASES)
def test_canonical_province(name, expected):
    assert canonical_province(name) == expected


CURRENT_CASES = [
    ("Quảng Nam", "Đà Nẵng"),
    ("Bắc Giang", "Bắc Ninh"),
    ("Hòa Bình", "Phú Thọ"),
    ("Kon Tum", "Quảng Ngãi"),
    ("Quảng Ngãi", "Quảng Ngãi"),
    ("Thanh Hoá", "Thanh Hóa"),
    ("Bình Phước", "Đồng Nai"),
    ("Đồng Nai", "Đồng Nai"),
    ("xyz", None),
]


@pytest.mark.parametrize("old,new", CURRENT_CASES)
def test_current_province(old, new):
    assert current_province(old) == new


def test_sixty_three_old_provinces_into_thirty_four():
    names = province_names()
    assert len(names) == 63
    assert len({current_province(n) for n in names}) == 34
    assert all(canonical_province(n) == n for n in names)


def test_agrees_with_underthesea_address_converter():
    from underthesea.address import convert_address

    for name in province_names():
        converted = convert_address(name).new.province
        short = converted.removeprefix("Thành phố ").removeprefix("Tỉnh ")
        assert current_province(name) == short, name


def test_merged_into():
    assert merged_into("Đà Nẵng") == ["Quảng Nam", "Đà Nẵng"]
