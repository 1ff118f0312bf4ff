"""pytest fixtures for the Slack fake (pytest-asyncio, asyncio_mode=auto).

Import them into a test module: `from tests.fakes.slack_fixtures import fake_slack, slack_client`.
`fake_slack` is a started FakeSlack with no channels; `slack_client` is the real AsyncWebClient
pointed at it with the bot token and no retry handlers (so a 429 or a 500 surfaces at once).
"""

from __future__ import annotations

from typing import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_api import FakeSlack


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def slack_client(fake_slack: FakeSlack) -> AsyncIterator[AsyncWebClient]:
    client = AsyncWebClient(token=fake_slack.bot_token, base_url=fake_slack.base_url, retry_handlers=[])
    yield client
    if client.session is not None:
        await client.session.close()
