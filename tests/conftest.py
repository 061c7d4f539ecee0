"""Fixtures shared by every test folder: loopback targets (see :mod:`tests.support.targets`),
and ``browser``, headless Chromium (see :mod:`tests.support.browser`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.browser import browser as browser  # the fixture, re-exported
from tests.support.targets import Cert, Target, make_self_signed_cert, serve_target


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> Cert:
    return make_self_signed_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
async def target() -> AsyncIterator[Target]:
    async with serve_target() as t:
        yield t


@pytest.fixture
async def tls_target(tls_cert: Cert) -> AsyncIterator[Target]:
    async with serve_target(tls=tls_cert) as t:
        yield t
