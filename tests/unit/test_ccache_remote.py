"""--ccache-remote: which CCACHE_REMOTE_STORAGE values ccache would accept, and that passwords
never show. The accepted and refused forms were checked against ccache 4.7.5 and 4.11.2."""

from __future__ import annotations

import pytest

from ci.errors import BadCcacheRemoteError, ExitCode
from ci.planning import ccache_remote


@pytest.mark.parametrize(
    "value",
    [
        "redis://cache.example.com",
        "redis://172.17.0.1:6379",
        "redis://s3cret@cache:6379",
        "redis://user:s3cret@cache:6379|connect-timeout=200|operation-timeout=5000",
        "redis://[::1]:6379",
        "redis+unix:/run/redis.sock",
        "redis+unix:///run/redis.sock",
        "http://cache.example.com:8080/ccache|layout=bazel",
        "file:///mnt/shared/ccache",
        "file:/mnt/shared/ccache|read-only=true",
        "redis://a:6379 http://b/cache  file:///c",
        "",
    ],
)
def test_values_ccache_accepts(value: str) -> None:
    assert ccache_remote.validate(value) == " ".join(value.split())


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("foo://host", "unknown scheme 'foo'"),
        ("https://host/cache", "unknown scheme 'https'"),
        ("cache.example.com:6379", "unknown scheme 'cache.example.com'"),
        ("host", "no URL scheme"),
        ("redis://", "needs a host"),
        ("redis:///", "needs a host"),
        ("redis:host", "needs a host"),
        ("http://:8080/x", "needs a host"),
        ("redis://h:99999", "port '99999'"),
        ("redis://h:abc", "port 'abc'"),
        ("file:", "needs an absolute path"),
        ("redis+unix:run/sock", "needs an absolute path"),
        ("redis://ok:6379 bogus://x", "unknown scheme 'bogus'"),
        ("redis://h|timeout", "attribute 1 after '|' is not KEY=VALUE"),
    ],
)
def test_values_ccache_refuses_are_one_line_and_exit_84(value: str, says: str) -> None:
    with pytest.raises(BadCcacheRemoteError) as info:
        ccache_remote.validate(value)
    assert says in info.value.message
    assert "\n" not in info.value.message and info.value.hint
    assert info.value.code == ExitCode.BAD_CCACHE_REMOTE
    assert int(info.value.code) == 84


def test_a_refused_value_never_shows_its_password() -> None:
    with pytest.raises(BadCcacheRemoteError) as info:
        ccache_remote.validate("redis://admin:hunter2@cache:notaport")
    assert "hunter2" not in info.value.message and "***@cache" in info.value.message


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("redis://172.17.0.1:6379", "redis://172.17.0.1:6379"),
        ("redis://hunter2@cache:6379", "redis://***@cache:6379"),
        ("redis://u:hunter2@cache|connect-timeout=9", "redis://***@cache|connect-timeout=9"),
        ("redis://u:p@ss:hunter2@cache", "redis://***@cache"),
        ("http://u:hunter2@h/c|bearer-token=hunter2", "http://***@h/c|bearer-token=***"),
        ("file:///c redis://:hunter2@h", "file:///c redis://***@h"),
    ],
)
def test_mask_hides_user_info_and_secret_attributes(value: str, shown: str) -> None:
    assert ccache_remote.mask(value) == shown
    assert ccache_remote.has_secret(value) == (shown != value)


def test_host_gateway_only_when_named() -> None:
    assert ccache_remote.needs_host_gateway("redis://host.docker.internal:6379")
    assert ccache_remote.needs_host_gateway("file:///x redis://pw@HOST.docker.internal")
    assert not ccache_remote.needs_host_gateway("redis://172.17.0.1:6379")
    assert not ccache_remote.needs_host_gateway("")


@pytest.mark.parametrize(
    ("value", "given"),
    [
        # ccache 4.11 sends no AUTH for an empty user: the password alone (AUTH PASSWORD) ...
        ("redis://:hunter2@cache:6379", "redis://hunter2@cache:6379"),
        ("redis+unix://:hunter2@localhost/run/r.sock", "redis+unix://hunter2@localhost/run/r.sock"),
        ("REDIS://:hunter2@cache|connect-timeout=200", "REDIS://hunter2@cache|connect-timeout=200"),
        # ... or, when it holds a ':' ccache would split at (after %-decoding), Redis 6's user
        ("redis://:hun:ter2@cache:6379", "redis://default:hun:ter2@cache:6379"),
        ("redis://:hun%3Ater2@cache:6379", "redis://default:hun%3Ater2@cache:6379"),
        ("redis://:@cache:6379", "redis://cache:6379"),
        ("file:///c redis://:pw@a redis://:pw@b", "file:///c redis://pw@a redis://pw@b"),
        # forms ccache already reads as meant stay as they are
        ("redis://hunter2@cache:6379", "redis://hunter2@cache:6379"),
        ("redis://default:hunter2@cache:6379", "redis://default:hunter2@cache:6379"),
        ("http://:hunter2@cache/c", "http://:hunter2@cache/c"),
    ],
)
def test_the_empty_user_form_is_handed_to_ccache_as_it_authenticates(value: str, given: str) -> None:
    assert ccache_remote.validate(value) == given
    assert "hunter2" not in ccache_remote.mask(given)


@pytest.mark.parametrize(
    ("value", "says"),
    [  # ccache: "Host address in '...' is invalid"
        ("redis://:p@ss@cache:6379", "an '@' in the user info must be written %40"),
        ("http://u:p@ss@cache/c", "an '@' in the user info must be written %40"),
        # ccache: "User info defined, but host is empty"
        ("redis+unix://hunter2@/run/r.sock", "user info needs a host before the path"),
        ("file://u@/mnt/c", "user info needs a host before the path"),
    ],
)
def test_user_info_ccache_cannot_parse_is_exit_84(value: str, says: str) -> None:
    with pytest.raises(BadCcacheRemoteError) as info:
        ccache_remote.validate(value)
    assert says in info.value.message and info.value.code == ExitCode.BAD_CCACHE_REMOTE
    assert "p@ss" not in info.value.message and "hunter2" not in info.value.message
