"""User agents → device type, browser, operating system, and whether the client is a bot.

Browsers, systems and devices come from ua-parser with its maintained rules
(``ua-parser-builtins``) and its native accelerator (``ua-parser-rs``, linear-time regular
expressions); bots are ua-parser's ``Spider`` devices, the agents of the maintained crawler list
(``crawler-user-agents``) and a few of prepcast's own (:data:`HOUSE_BOTS`). Applied once per
distinct user agent.

A user agent is cut to :data:`MAX_AGENT` characters before it is classified: real ones are a few
hundred characters, and a hostile 100 KB one then costs no more than a normal one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

MAX_AGENT = 1024

# prepcast's own clients and tools that neither list knows (lower case, matched as substrings).
HOUSE_BOTS = ("prepcast-monitor", "prepcast-probe", "headlesschrome", "phantomjs")

_TABLET = re.compile(r"iPad|Tablet|Kindle|Silk/|PlayBook|SM-T\d|SM-X\d|\bTab\b", re.IGNORECASE)
_MOBILE = re.compile(r"Mobi|iPhone|iPod|Windows Phone|Opera Mini|BlackBerry")
_DESKTOP_OS = frozenset({"Windows", "macOS", "Linux", "ChromeOS"})

DEVICE_LABELS = {
    "mobile": "Teléfono",
    "tablet": "Tableta",
    "desktop": "Computadora",
    "bot": "Robot",
    "other": "Otro",
}

# ua-parser's browser families → one name per browser (its mobile and iOS variants included).
_BROWSER_NAMES = {
    "Chrome Mobile": "Chrome", "Chrome Mobile iOS": "Chrome", "Chrome Mobile WebView": "Chrome",
    "Chromium": "Chrome", "HeadlessChrome": "Chrome",
    "Mobile Safari": "Safari", "Mobile Safari UI/WKWebView": "Safari",
    "Firefox Mobile": "Firefox", "Firefox iOS": "Firefox",
    "Edge Mobile": "Edge",
    "Opera Mobile": "Opera", "Opera Mini": "Opera",
    "IE": "Internet Explorer", "IE Mobile": "Internet Explorer",
    "Facebook": "Facebook (navegador interno)", "Instagram": "Instagram (navegador interno)",
    "Other": "Otro",
}
_OS_NAMES = {
    "Mac OS X": "macOS", "Chrome OS": "ChromeOS", "Ubuntu": "Linux", "Fedora": "Linux",
    "Debian": "Linux", "Other": "Otro",
}


@dataclass(frozen=True)
class Agent:
    device: str  # mobile, tablet, desktop, bot, other
    browser: str
    os: str
    is_bot: bool
    bot: str  # the bot's name when is_bot, else ""


@cache
def _crawlers() -> re.Pattern[str]:
    """The maintained crawler list as one pattern."""
    import crawleruseragents

    return re.compile(
        "|".join(f"(?:{i['pattern']})" for i in crawleruseragents.CRAWLER_USER_AGENTS_DATA)
    )


def _crawler_name(ua: str) -> str:
    """The crawler the list finds in ``ua`` (the text it matched), or ""."""
    import crawleruseragents

    if not crawleruseragents.is_crawler(ua):  # its chunked patterns: the fast test
        return ""
    found = _crawlers().search(ua)
    if found is None:
        return "robot"
    return found.group(0).strip("/ ;+(") or "robot"


def warm_up() -> None:
    """Load ua-parser's rules and compile the crawler list now (both are loaded on first use)."""
    _parse("Mozilla/5.0")
    _crawlers()


def _parse(ua: str) -> Any:
    import ua_parser

    return ua_parser.parse(ua).with_defaults()


@lru_cache(maxsize=8192)
def classify(user_agent: str) -> Agent:
    """What a user agent string says about its client."""
    ua = user_agent.strip()[:MAX_AGENT]
    if not ua or ua == "-":
        return Agent("bot", "Sin agente", "Desconocido", True, "Sin agente de usuario")
    parsed = _parse(ua)
    family = str(parsed.user_agent.family)
    lower = ua.lower()
    bot = ""
    if parsed.device.family == "Spider":
        bot = family if family != "Other" else (_crawler_name(ua) or "robot")
    else:
        bot = _crawler_name(ua) or next((h for h in HOUSE_BOTS if h in lower), "")
    if bot:
        return Agent("bot", "Robot", "Desconocido", True, bot.lower()[:40])
    browser = _BROWSER_NAMES.get(family, family)
    os_family = str(parsed.os.family)
    os_name = _OS_NAMES.get(os_family, os_family)
    if os_name == "Linux" and "Android" in ua:
        os_name = "Android"
    if _TABLET.search(ua) or parsed.device.family == "iPad" or (
        os_name == "Android" and "Mobile" not in ua
    ):
        device = "tablet"
    elif _MOBILE.search(ua) or os_name in ("Android", "iOS"):
        device = "mobile"
    elif os_name in _DESKTOP_OS or ua.startswith("Mozilla/"):
        device = "desktop"
    else:
        device = "other"
    return Agent(device, browser, os_name, False, "")
