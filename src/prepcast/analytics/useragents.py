"""User agents → device type, browser, operating system, and whether the client is a bot.

A small ordered table of substrings and regular expressions, applied once per distinct user
agent. It covers what reads a PREP site (phones, tablets, desktops, crawlers, monitors, scripts);
adjust the tables below to add a browser or a crawler.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Bots: a match anywhere in the user agent (case-insensitive). The first group names the bot.
_BOT = re.compile(
    r"(googlebot|bingbot|yandex\w*|baiduspider|duckduckbot|applebot|slurp|ahrefsbot|semrushbot|"
    r"mj12bot|dotbot|petalbot|bytespider|gptbot|claudebot|ccbot|amazonbot|facebookexternalhit|"
    r"meta-externalagent|twitterbot|linkedinbot|whatsapp|telegrambot|discordbot|slackbot|"
    r"uptimerobot|pingdom|statuscake|site24x7|prepcast-monitor|headlesschrome|phantomjs|"
    r"python-requests|python-urllib|python-httpx|aiohttp|go-http-client|curl|wget|libwww-perl|"
    r"java/|okhttp|scrapy|httpclient|node-fetch|axios|"
    r"[\w-]*bot\b|[\w-]*crawler|[\w-]*spider)",
    re.IGNORECASE,
)

_BROWSERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Edge", re.compile(r"Edg(e|A|iOS)?/")),
    ("Opera", re.compile(r"OPR/|Opera")),
    ("Samsung Internet", re.compile(r"SamsungBrowser/")),
    ("UC Browser", re.compile(r"UCBrowser/")),
    ("Firefox", re.compile(r"Firefox/|FxiOS/")),
    ("Chrome", re.compile(r"Chrome/|CriOS/")),
    ("Safari", re.compile(r"Safari/|AppleWebKit/.*Mobile/")),
    ("Internet Explorer", re.compile(r"MSIE |Trident/")),
)

_OSES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Windows", re.compile(r"Windows")),
    ("Android", re.compile(r"Android")),
    ("iOS", re.compile(r"iPhone|iPad|iPod|CPU( iPhone)? OS")),
    ("macOS", re.compile(r"Macintosh|Mac OS X")),
    ("ChromeOS", re.compile(r"CrOS")),
    ("Linux", re.compile(r"Linux|X11")),
)

_TABLET = re.compile(r"iPad|Tablet|Kindle|Silk/|PlayBook|SM-T\d|Tab\b", re.IGNORECASE)
_MOBILE = re.compile(r"Mobi|iPhone|iPod|Android.*Mobile|Windows Phone|Opera Mini|BlackBerry")

DEVICE_LABELS = {
    "mobile": "Teléfono",
    "tablet": "Tableta",
    "desktop": "Computadora",
    "bot": "Robot",
    "other": "Otro",
}


@dataclass(frozen=True)
class Agent:
    device: str  # mobile, tablet, desktop, bot, other
    browser: str
    os: str
    is_bot: bool
    bot: str  # the bot's name when is_bot, else ""


def classify(user_agent: str) -> Agent:
    """What a user agent string says about its client."""
    ua = user_agent.strip()
    if not ua or ua == "-":
        return Agent("bot", "Sin agente", "Desconocido", True, "Sin agente de usuario")
    bot = _BOT.search(ua)
    if bot:
        return Agent("bot", "Robot", "Desconocido", True, bot.group(1).lower())
    browser = next((name for name, rx in _BROWSERS if rx.search(ua)), "Otro")
    os_name = next((name for name, rx in _OSES if rx.search(ua)), "Otro")
    if _TABLET.search(ua) or (os_name == "Android" and "Mobile" not in ua):
        device = "tablet"
    elif _MOBILE.search(ua):
        device = "mobile"
    elif os_name in ("Windows", "macOS", "Linux", "ChromeOS") or ua.startswith("Mozilla/"):
        device = "desktop"
    else:
        device = "other"
    return Agent(device, browser, os_name, False, "")
