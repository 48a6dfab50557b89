"""CRC-32C: both implementations agree with each other and with the standard check value."""

import pytest
from hypothesis import given, settings, strategies as st

import kafkalab.record.crc32c as crc_module
from kafkalab.record.crc32c import IMPLEMENTATION, crc32c, crc32c_pure


def test_check_value():
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c_pure(b"123456789") == 0xE3069283


def test_known_vectors():
    # RFC 3720 (iSCSI) appendix B.4 test patterns
    assert crc32c_pure(bytes(32)) == 0x8A9136AA
    assert crc32c_pure(b"\xff" * 32) == 0x62A8AB43
    assert crc32c_pure(bytes(range(32))) == 0x46DD794E
    assert crc32c(b"") == crc32c_pure(b"") == 0


def test_implementation_is_reported():
    assert IMPLEMENTATION in ("crc32c", "pure")


def test_accelerator_is_used_when_installed():
    pytest.importorskip("crc32c")
    assert IMPLEMENTATION == "crc32c"


def test_incremental_crc_equals_whole():
    assert crc32c(b"6789", crc32c(b"12345")) == crc32c(b"123456789")
    assert crc32c_pure(b"6789", crc32c_pure(b"12345")) == 0xE3069283


@settings(derandomize=True, max_examples=200)
@given(st.binary(max_size=2048), st.integers(0, 0xFFFFFFFF))
def test_pure_and_active_agree(data, start):
    assert crc32c_pure(data, start) == crc32c(data, start)
    assert crc32c_pure(data) == crc_module.crc32c(data)
