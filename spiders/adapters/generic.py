"""Fallback adapter: item links found by link text and dates; follows a 下一页 link when there is one."""

from __future__ import annotations

from spiders.adapters import pager


def matches(text: str, url: str) -> bool:
    return True


def parse(text: str, url: str, context: dict):
    page = pager.parse(text, url, context)
    page.family = "generic"
    page.next_requests = [type(r)(r.url, family="generic") for r in page.next_requests]
    return page
