"""govwatch.toml validation: bad configs are rejected before any request, naming file, line/portal and key."""

from __future__ import annotations

import pytest

import helpers  # noqa: F401  (puts the repo on sys.path)
from crawler.config import DEFAULT_USER_AGENT, ConfigError, load_config, parse_config

GOOD = """
[crawl]
download_delay = 2
concurrency_per_domain = 1

[[portal]]
id = "jinghu"
name = "镜湖区人民政府"
start_urls = ["http://www.jinghu.gov.cn/fzzfjs/index.html"]
region = "镜湖区"
adcode = "340202"

[[portal]]
id = "huiji"
home = "https://www.huiji.gov.cn/"
cms = "hanweb"
"""


def write(tmp_path, text: str):
    path = tmp_path / "govwatch.toml"
    path.write_text(text, encoding="utf-8")
    return path


def rejected(tmp_path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message, message
    return message


def test_good_config_parses_with_polite_defaults(tmp_path):
    config = load_config(write(tmp_path, GOOD))
    assert [p.id for p in config.portals] == ["jinghu", "huiji"]
    assert config.crawl.download_delay == 2.0 and config.crawl.concurrency_per_domain == 1
    assert config.portal("jinghu").hosts == ("www.jinghu.gov.cn",)
    assert config.portal("huiji").home == "https://www.huiji.gov.cn/" and config.portal("huiji").cms == "hanweb"
    defaults = parse_config('[[portal]]\nid = "a"\nstart_urls = ["http://a.gov.cn/"]\n').crawl
    assert defaults.obey_robots is True and defaults.autothrottle is True
    assert defaults.download_delay >= 1 and 1 <= defaults.concurrency_per_domain <= 2
    assert defaults.user_agent == DEFAULT_USER_AGENT and "govwatch" in defaults.user_agent
    assert defaults.max_page_bytes > 0 and defaults.max_attachment_bytes > 0


def test_polite_defaults_reach_scrapy_settings(tmp_path):
    from crawler.settings import build_settings

    settings = build_settings(load_config(write(tmp_path, GOOD)))
    assert settings["ROBOTSTXT_OBEY"] is True and settings["AUTOTHROTTLE_ENABLED"] is True
    assert settings["CONCURRENT_REQUESTS_PER_DOMAIN"] == 1 and settings["DOWNLOAD_DELAY"] == 2.0
    assert settings["USER_AGENT"] == DEFAULT_USER_AGENT
    assert 412 in settings["HTTPERROR_ALLOWED_CODES"] and 521 in settings["HTTPERROR_ALLOWED_CODES"]
    assert not {412, 521} & set(settings["RETRY_HTTP_CODES"])


def test_a_crawl_loads_no_listening_extensions_but_keeps_the_others(tmp_path):
    from scrapy.settings import Settings

    from crawler.settings import build_settings

    extensions = Settings(build_settings(load_config(write(tmp_path, GOOD)))).getwithbase("EXTENSIONS")
    names = {key if isinstance(key, str) else f"{key.__module__}.{key.__name__}" for key in extensions}
    assert not [n for n in names if "telnet" in n or "remote_control" in n]
    assert {"scrapy.extensions.throttle.AutoThrottle", "scrapy.extensions.corestats.CoreStats",
            "scrapy.extensions.closespider.CloseSpider"} <= names


def test_unknown_key_names_line_portal_and_key(tmp_path):
    message = rejected(tmp_path, GOOD.replace('region = "镜湖区"', 'regoin = "镜湖区"'))
    assert "regoin" in message and "jinghu" in message
    assert ":10" in message  # the line of the offending key


def test_unknown_crawl_key(tmp_path):
    message = rejected(tmp_path, GOOD.replace("download_delay = 2", "downlaod_delay = 2"))
    assert "downlaod_delay" in message and ":3" in message


def test_unknown_top_level_section(tmp_path):
    assert "crawler" in rejected(tmp_path, GOOD.replace("[crawl]", "[crawler]"))


def test_missing_id(tmp_path):
    message = rejected(tmp_path, GOOD.replace('id = "huiji"\n', ""))
    assert "'id'" in message and "portal #2" in message


def test_duplicate_id(tmp_path):
    message = rejected(tmp_path, GOOD.replace('id = "huiji"', 'id = "jinghu"'))
    assert "duplicate" in message and "jinghu" in message


@pytest.mark.parametrize("bad", ["www.jinghu.gov.cn/fzzfjs/", "ftp://www.jinghu.gov.cn/", "http:///nohost",
                                 "http://www.jinghu.gov.cn/a b"])
def test_malformed_url(tmp_path, bad):
    message = rejected(tmp_path, GOOD.replace("http://www.jinghu.gov.cn/fzzfjs/index.html", bad))
    assert "start_urls" in message and "jinghu" in message and "malformed URL" in message


def test_toml_syntax_error_names_line(tmp_path):
    message = rejected(tmp_path, GOOD.replace('name = "镜湖区人民政府"', 'name = "镜湖区人民政府'))
    assert "TOML syntax error" in message and "line 8" in message


@pytest.mark.parametrize("replacement, key", [
    ('cms = "wordpress"', "cms"), ('adcode = "34"', "adcode"), ('schedule = "sometimes"', "schedule"),
])
def test_bad_values_name_the_key(tmp_path, replacement, key):
    message = rejected(tmp_path, GOOD.replace('cms = "hanweb"', replacement))
    assert key in message and "huiji" in message


def test_wrong_type_and_range(tmp_path):
    assert "concurrency_per_domain" in rejected(tmp_path, GOOD.replace("concurrency_per_domain = 1",
                                                                       "concurrency_per_domain = 0"))
    assert "download_delay" in rejected(tmp_path, GOOD.replace("download_delay = 2", 'download_delay = "2"'))


def test_portal_without_start_urls_or_home(tmp_path):
    message = rejected(tmp_path, GOOD.replace('home = "https://www.huiji.gov.cn/"\n', ""))
    assert "start_urls" in message and "huiji" in message


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


def test_bad_config_is_rejected_before_any_request(tmp_path):
    """The crawl runner refuses a bad config without starting a subprocess (so nothing is requested)."""
    from crawler.crawl.runner import CrawlError, crawl

    path = write(tmp_path, GOOD.replace('region = "镜湖区"', 'regoin = "x"'))
    with pytest.raises(CrawlError, match="regoin"):
        crawl(path, tmp_path / "db.sqlite")
    assert not (tmp_path / "db.sqlite").exists()


def test_thousands_of_portals_load_in_linear_time(tmp_path):
    """Every key of every portal is located for messages: one pass over the file, not one per key (3,214
    portals took 61 s), and the duplicate check is a set. The error still names the right line."""
    rows = "".join(f'[[portal]]\nid = "p{n}"\nname = "门户{n}"\nstart_urls = ["http://127.0.0.{n % 250 + 1}:8{n % 1000:03d}/c/"]\n\n'
                   for n in range(3000))
    path = tmp_path / "govwatch.toml"
    path.write_text(rows + '[[portal]]\nid = "p17"\nstart_urls = ["http://127.0.0.9/x/"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"govwatch.toml:15002: duplicate portal id 'p17'"):
        load_config(path)
    path.write_text(rows, encoding="utf-8")
    assert len(load_config(path).portals) == 3000


@pytest.mark.parametrize("line, key", [
    ("timeout = -5", "timeout"), ("timeout = 0", "timeout"), ("max_page_bytes = 0", "max_page_bytes"),
    ("max_attachment_bytes = -1", "max_attachment_bytes"), ("max_list_pages = -1", "max_list_pages"),
    ("retry_times = -3", "retry_times"), ("concurrency_per_domain = 17", "concurrency_per_domain"),
    ('user_agent = "  "', "user_agent"),
])
def test_out_of_range_crawl_values_name_file_line_and_key(tmp_path, line, key):
    message = rejected(tmp_path, GOOD.replace("concurrency_per_domain = 1", line))
    assert f"govwatch.toml:4: [crawl] {key} must" in message, message
    assert "\n" not in message


@pytest.mark.parametrize("schedule, why", [
    ("0s", "longer than 0"), ("0h", "longer than 0"), ("61 * * * *", "not a valid cron"),
    ("* * * 13 *", "not a valid cron"), ("every day", "5-field cron"), ("* * * *", "5-field cron"),
])
def test_bad_schedules_are_rejected_at_load(tmp_path, schedule, why):
    crawl_level = rejected(tmp_path, GOOD.replace("concurrency_per_domain = 1", f'schedule = "{schedule}"'))
    assert "govwatch.toml:4: [crawl] schedule" in crawl_level and why in crawl_level, crawl_level
    portal_level = rejected(tmp_path, GOOD.replace('cms = "hanweb"', f'schedule = "{schedule}"'))
    assert "govwatch.toml:16: portal 'huiji' schedule" in portal_level and why in portal_level, portal_level


@pytest.mark.parametrize("schedule", ["6h", "30m", "10s", "1d", "0 8 * * *", "*/15 * * * mon-fri"])
def test_good_schedules_load(tmp_path, schedule):
    config = load_config(write(tmp_path, GOOD.replace('cms = "hanweb"', f'schedule = "{schedule}"')))
    assert config.portal("huiji").schedule == schedule


def test_toml_syntax_error_message_starts_with_file_and_line(tmp_path):
    message = rejected(tmp_path, GOOD.replace('name = "镜湖区人民政府"', 'name = "镜湖区人民政府'))
    assert message.startswith(f"{tmp_path / 'govwatch.toml'}:8: TOML syntax error"), message


@pytest.mark.parametrize("command", [["watch"], ["crawl"], ["coverage"]])
@pytest.mark.parametrize("line", ['schedule = "0s"', 'schedule = "61 * * * *"', "timeout = -5", "retry_times = -3"])
def test_commands_refuse_a_bad_value_in_one_line_before_anything_runs(tmp_path, command, line):
    from click.testing import CliRunner

    from crawler.cli import main

    path = write(tmp_path, GOOD.replace("concurrency_per_domain = 1", line))
    db = tmp_path / "gw.db"
    result = CliRunner().invoke(main, command + ["--config", str(path), "--db", str(db)])
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"Error: {path}:4: [crawl] ") and len(result.output.splitlines()) == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not db.exists()


def test_toml_values_round_trip_through_tomllib():
    import tomllib

    from crawler.config import toml_value

    values = {"name": '某县"人民"政府\\\n\t第二行', "n": 3, "f": 0.5, "on": True, "urls": ["http://a/", "b"]}
    text = "\n".join(f"{key} = {toml_value(value)}" for key, value in values.items())
    assert tomllib.loads(text) == values
