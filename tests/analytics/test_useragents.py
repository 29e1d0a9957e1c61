from __future__ import annotations

import pytest

from prepcast.analytics import classify_user_agent
from prepcast.analytics.synth import AGENTS, BOTS


@pytest.mark.parametrize(("device", "_weight", "ua"), AGENTS)
def test_reader_agents(device: str, _weight: float, ua: str) -> None:
    agent = classify_user_agent(ua)
    assert not agent.is_bot
    assert agent.device == device


@pytest.mark.parametrize(("_prefix", "ua"), BOTS)
def test_bots_are_recognised(_prefix: str, ua: str) -> None:
    assert classify_user_agent(ua).is_bot


def test_browsers_and_systems() -> None:
    edge = classify_user_agent(AGENTS[7][2])
    assert (edge.browser, edge.os, edge.device) == ("Edge", "Windows", "desktop")
    iphone = classify_user_agent(AGENTS[1][2])
    assert (iphone.browser, iphone.os) == ("Safari", "iOS")
    assert classify_user_agent("-").is_bot
    assert classify_user_agent("").is_bot
