"""One way to show a URL and to tell a local one, and one set of retryable statuses."""

from synth.retrying import retryable
from synth.urls import is_local, strip_credentials, url_secrets


def test_credentials_query_and_fragment_never_shown():
    url = "https://user:s3cret@models.example.org:8443/v1?key=abc#top"
    assert strip_credentials(url) == "https://models.example.org:8443/v1"
    assert url_secrets(url) == ["s3cret"]
    assert url_secrets("http://127.0.0.1:8080/v1") == []


def test_a_malformed_url_loses_its_credentials_too():
    shown = strip_credentials("http://user:s3cret@host:notaport/v1")
    assert "s3cret" not in shown and shown.endswith("host:notaport/v1")


def test_only_loopback_hosts_are_local():
    assert is_local("http://127.0.0.1:8080/v1") and is_local("http://localhost/v1")
    assert is_local("http://[::1]:9000")
    assert not is_local("http://127.0.0.1.example.org/v1")
    assert not is_local("https://api.openai.com/v1")


def test_transient_statuses_are_retried_and_refusals_are_not():
    assert all(retryable(s) for s in (408, 409, 425, 429, 500, 503, 529))
    assert not any(retryable(s) for s in (None, 400, 401, 403, 404, 422))
