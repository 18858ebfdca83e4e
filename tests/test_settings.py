"""The crawl's Scrapy settings stay within working bounds whatever Config they come from: the config file's
validation rejects out-of-range values with file:line, and a Config built in code cannot turn a 0 into
Scrapy's "no limit" or a negative count into nothing at all."""

from __future__ import annotations

import pytest

import helpers  # noqa: F401  (repo on sys.path)
from crawler.config import Config, ConfigError, CrawlSettings, parse_config
from crawler.settings import build_settings


def test_out_of_range_values_are_bounded_in_the_settings():
    bad = CrawlSettings(max_list_pages=-1, retry_times=-3, max_page_bytes=0, timeout=-5, max_attachment_bytes=0,
                        download_delay=-1.0, concurrency_per_domain=0, max_list_items=0)
    settings = build_settings(Config(crawl=bad))
    assert settings["GOVWATCH_MAX_LIST_PAGES"] == 1 and settings["RETRY_TIMES"] == 0
    assert settings["DOWNLOAD_MAXSIZE"] == settings["GOVWATCH_MAX_PAGE_BYTES"] == 1  # 0 would mean unlimited
    assert settings["GOVWATCH_MAX_ATTACHMENT_BYTES"] == 1 and settings["GOVWATCH_MAX_LIST_ITEMS"] == 1
    assert settings["DOWNLOAD_TIMEOUT"] == 1 and settings["DOWNLOAD_DELAY"] == 0
    assert settings["CONCURRENT_REQUESTS_PER_DOMAIN"] == 1


def test_defaults_and_a_download_never_outliving_the_crawl():
    settings = build_settings(Config())
    assert settings["DOWNLOAD_TIMEOUT"] == 60 and settings["GOVWATCH_MAX_LIST_ITEMS"] == 1000
    assert settings["REDIRECT_MAX_TIMES"] == 5 and settings["GOVWATCH_MAX_TRIES"] == 5
    assert build_settings(Config(crawl=CrawlSettings(timeout=20)))["DOWNLOAD_TIMEOUT"] == 20


def test_max_list_items_is_validated_with_its_line():
    assert parse_config("[crawl]\nmax_list_items = 200\n").crawl.max_list_items == 200
    with pytest.raises(ConfigError, match=r"g.toml:3: \[crawl\] max_list_items must be >= 1, got 0"):
        parse_config("[crawl]\ndownload_delay = 0\nmax_list_items = 0\n", "g.toml")
