"""The X API v2 emulator, exercised through a real tweepy.Client over loopback HTTP."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests
import tweepy
from requests.adapters import HTTPAdapter

if TYPE_CHECKING:  # mypy maps tests/*.py to top-level modules while tests/ is no package
    from x_emulator import UNAUTHORIZED, XEmulator
else:
    try:  # pytest puts tests/ on sys.path while it is no package...
        from x_emulator import UNAUTHORIZED, XEmulator
    except ImportError:  # ...and the project root once tests/__init__.py exists
        from tests.x_emulator import UNAUTHORIZED, XEmulator

TOKEN = "emulator-secret-token-123"
START = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
# tweepy 4.17 hard-codes "https://api.twitter.com" in BaseClient.request; later versions may
# switch to api.x.com, so both are rebased.
X_HOSTS = ("https://api.twitter.com", "https://api.x.com")
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class _RebaseAdapter(HTTPAdapter):
    """Sends X API requests to the emulator instead, with an optional default timeout."""

    def __init__(self, base_url: str, timeout: float | None) -> None:
        super().__init__()
        self.base_url, self.timeout = base_url.rstrip("/"), timeout

    def send(self, request: requests.PreparedRequest, stream: bool = False,
             timeout: float | tuple[float | None, float | None] | None = None,
             verify: bool | str = True, cert: str | tuple[str, str] | None = None,
             proxies: Mapping[str, str] | None = None) -> requests.Response:
        url = request.url or ""
        for host in X_HOSTS:
            if url.startswith(host + "/"):
                request.url = self.base_url + url[len(host):]
        if self.timeout is not None:  # tweepy.Client has no timeout option of its own
            timeout = self.timeout
        # proxies={}: an HTTP(S)_PROXY from the environment must never see loopback traffic
        return super().send(request, stream, timeout, verify, cert, {})


def rebase_session(client: tweepy.Client, base_url: str, *, timeout: float | None = None) -> None:
    """Point client's requests session at base_url for every X API host tweepy may use."""
    adapter = _RebaseAdapter(base_url, timeout)
    for host in X_HOSTS:
        client.session.mount(host + "/", adapter)
    client.session.trust_env = False  # ignore .netrc and proxy settings


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail loudly if anything tries to reach a non-loopback address."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> None:
        if isinstance(address, tuple) and address[0] not in LOOPBACK:
            raise OSError(f"test tried to reach {address!r}: only loopback is allowed")
        real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture
def emu() -> Iterator[XEmulator]:
    with XEmulator(token=TOKEN) as emulator:
        yield emulator


def make_client(emu: XEmulator, token: str = TOKEN, timeout: float | None = None) -> tweepy.Client:
    client = tweepy.Client(bearer_token=token, wait_on_rate_limit=False)
    rebase_session(client, emu.base_url, timeout=timeout)
    return client


@pytest.fixture
def client(emu: XEmulator) -> Iterator[tweepy.Client]:
    client = make_client(emu)
    yield client
    client.session.close()


def test_rebase_reaches_emulator(emu: XEmulator, client: tweepy.Client) -> None:
    uid = emu.add_user("alice")
    assert client.get_user(username="alice").data.id == int(uid)
    assert emu.requests[-1]["path"] == "/2/users/by/username/alice"


def test_pagination_250_posts_three_pages(emu: XEmulator, client: tweepy.Client) -> None:
    uid = emu.add_user("alice")
    ids = emu.add_posts("alice", 250, start=START)
    pages = list(tweepy.Paginator(client.get_users_tweets, uid, max_results=100))
    assert [len(page.data) for page in pages] == [100, 100, 50]
    assert all("next_token" in page.meta for page in pages[:-1])
    assert "next_token" not in pages[-1].meta
    got = [tweet.id for page in pages for tweet in page.data]
    assert got == [int(i) for i in reversed(ids)]  # newest first, nothing lost or repeated
    assert pages[0].meta["newest_id"] == ids[-1] and pages[-1].meta["oldest_id"] == ids[0]
    assert emu.served_posts == {"alice": 250}
    assert [r["status"] for r in emu.requests] == [200, 200, 200]
    emu.reset_counters()
    assert emu.served_posts == {} and emu.requests == []


def test_since_until_and_time_window(emu: XEmulator, client: tweepy.Client) -> None:
    uid = emu.add_user("alice")
    ids = emu.add_posts("alice", 30, start=START)
    newer = client.get_users_tweets(uid, since_id=ids[-11], max_results=100)
    assert [t.id for t in newer.data] == [int(i) for i in reversed(ids[-10:])]
    older = client.get_users_tweets(uid, until_id=ids[5], max_results=100)
    assert [t.id for t in older.data] == [int(i) for i in reversed(ids[:5])]
    window = client.get_users_tweets(uid, start_time=START + timedelta(hours=3),
                                     end_time=START + timedelta(hours=9))
    assert [t.id for t in window.data] == [int(ids[2]), int(ids[1])]  # start in, end out
    empty = client.get_users_tweets(uid, since_id=ids[-1])
    assert empty.data is None and empty.meta == {"result_count": 0}


def test_tweet_fields_are_opt_in_and_shaped_like_x(emu: XEmulator, client: tweepy.Client) -> None:
    uid = emu.add_user("alice")
    emu.add_post("alice", "Hello #Launch day with @nobody https://example.com/a.", created_at=START)
    bare = client.get_users_tweets(uid).data[0].data
    assert set(bare) == {"id", "text", "edit_history_tweet_ids"}  # X's defaults
    fields = ["created_at", "author_id", "lang", "entities", "public_metrics", "conversation_id"]
    tweet = client.get_users_tweets(uid, tweet_fields=fields).data[0].data
    assert tweet["created_at"] == "2026-10-01T08:00:00.000Z"
    assert tweet["author_id"] == uid and tweet["conversation_id"] == tweet["id"]
    url = tweet["entities"]["urls"][0]
    assert url["url"].startswith("https://t.co/") and tweet["text"].endswith(url["url"] + ".")
    assert url["expanded_url"] == "https://example.com/a"
    assert tweet["text"][url["start"]:url["end"]] == url["url"]
    assert tweet["entities"]["hashtags"][0]["tag"] == "Launch"
    assert tweet["entities"]["mentions"][0]["username"] == "nobody"
    assert set(tweet["public_metrics"]) >= {"retweet_count", "like_count", "impression_count"}


@pytest.mark.parametrize("size", [4, 101])
def test_max_results_out_of_range(emu: XEmulator, client: tweepy.Client, size: int) -> None:
    uid = emu.add_user("alice")
    with pytest.raises(tweepy.BadRequest) as exc:
        client.get_users_tweets(uid, max_results=size)
    assert "max_results" in exc.value.api_messages[0]


def test_user_lookup_unknown_and_rename(emu: XEmulator, client: tweepy.Client) -> None:
    uid = emu.add_user("alice", name="Alice A.")
    resp = client.get_users(usernames=["alice", "ghost"], user_fields=["protected"])
    assert [(u.id, u.username, u.name, u.protected) for u in resp.data] == [
        (int(uid), "alice", "Alice A.", False)]
    error = resp.errors[0]
    assert error["value"] == "ghost" and error["title"] == "Not Found Error"
    assert error["parameter"] == "usernames" and error["resource_type"] == "user"
    assert error["type"] == "https://api.twitter.com/2/problems/resource-not-found"
    assert client.get_user(username="ALICE").data.id == int(uid)  # case-insensitive
    emu.rename_user("alice", "alice_new")
    assert client.get_user(id=uid).data.username == "alice_new"
    gone = client.get_user(username="alice")
    assert gone.data is None and gone.errors[0]["detail"].startswith("Could not find user")


@pytest.mark.parametrize("status_code", ["500", "503"])
def test_server_errors(emu: XEmulator, client: tweepy.Client, status_code: str) -> None:
    uid = emu.add_user("alice")
    emu.add_posts("alice", 5, start=START)
    emu.add_fault(status_code)
    with pytest.raises(tweepy.TwitterServerError) as exc:
        client.get_users_tweets(uid)
    assert exc.value.response.status_code == int(status_code)
    assert len(client.get_users_tweets(uid).data) == 5  # consumed: the next call is fine
    assert emu.served_posts == {"alice": 5}


def test_429_carries_reset_header(emu: XEmulator, client: tweepy.Client) -> None:
    uid = emu.add_user("alice")
    emu.add_fault("429", reset_in=30)
    with pytest.raises(tweepy.TooManyRequests) as exc:
        client.get_users_tweets(uid)
    headers = exc.value.response.headers
    assert abs(int(headers["x-rate-limit-reset"]) - (time.time() + 30)) <= 2
    assert headers["x-rate-limit-remaining"] == "0" and int(headers["x-rate-limit-limit"]) > 0
    ok = client.get_users_tweets(uid)
    assert ok.meta == {"result_count": 0}


def test_slow_fault_hits_client_timeout(emu: XEmulator) -> None:
    uid = emu.add_user("alice")
    emu.add_fault("slow", delay=2.0)
    client = make_client(emu, timeout=0.5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        client.get_users_tweets(uid)
    assert client.get_users_tweets(uid).meta == {"result_count": 0}
    client.session.close()


def test_malformed_body(emu: XEmulator, client: tweepy.Client) -> None:
    uid = emu.add_user("alice")
    emu.add_fault("malformed")
    with pytest.raises(requests.exceptions.JSONDecodeError):
        client.get_users_tweets(uid)


def test_unauthorized(emu: XEmulator, client: tweepy.Client) -> None:
    uid = emu.add_user("alice")
    emu.add_fault("401")
    with pytest.raises(tweepy.Unauthorized):
        client.get_users_tweets(uid)
    wrong = make_client(emu, token="not-the-token")
    with pytest.raises(tweepy.Unauthorized) as exc:
        wrong.get_users_tweets(uid)
    assert exc.value.response.json() == UNAUTHORIZED
    wrong.session.close()


def test_account_statuses(emu: XEmulator, client: tweepy.Client) -> None:
    ids = {name: emu.add_user(name) for name in ("sus", "priv", "gone")}
    for name, status in (("sus", "suspended"), ("priv", "protected"), ("gone", "deleted")):
        emu.set_status(name, status)
    with pytest.raises(tweepy.Forbidden) as forbidden:
        client.get_users_tweets(ids["sus"])
    assert "suspended" in forbidden.value.api_errors[0]["detail"]
    with pytest.raises(tweepy.Forbidden) as unauthorized:
        client.get_users_tweets(ids["priv"])
    assert unauthorized.value.api_errors[0]["title"] == "Authorization Error"
    with pytest.raises(tweepy.NotFound):
        client.get_users_tweets(ids["gone"])
    with pytest.raises(tweepy.NotFound):
        client.get_users_tweets("999")  # never existed
    resp = client.get_users(usernames=["sus", "priv", "gone"], user_fields=["protected"])
    assert [(u.username, u.protected) for u in resp.data] == [("priv", True)]
    assert {e["value"]: e["title"] for e in resp.errors} == {
        "sus": "Forbidden", "gone": "Not Found Error"}


def test_faults_in_order_and_per_account(emu: XEmulator, client: tweepy.Client) -> None:
    alice, bob = emu.add_user("alice"), emu.add_user("bob")
    emu.add_fault("503", account="bob", times=2)
    emu.add_fault("429", account="bob")
    emu.add_fault("500", endpoint="users")
    assert client.get_users_tweets(alice).meta == {"result_count": 0}  # untouched
    for expected in (tweepy.TwitterServerError, tweepy.TwitterServerError,
                     tweepy.TooManyRequests):
        with pytest.raises(expected):
            client.get_users_tweets(bob)
    assert client.get_users_tweets(bob).meta == {"result_count": 0}
    with pytest.raises(tweepy.TwitterServerError):
        client.get_user(username="alice")  # the "users" fault left timelines alone
    assert [r["fault"] for r in emu.requests] == [None, "503", "503", "429", None, "500"]
    assert [r["account"] for r in emu.requests[:2]] == ["alice", "bob"]


def test_retweet_and_quote_expansions(emu: XEmulator, client: tweepy.Client) -> None:
    alice, bob = emu.add_user("alice"), emu.add_user("bob")
    orig = emu.add_post("bob", "Shipping #v2 today: https://example.com/notes", created_at=START)
    hour = timedelta(hours=1)
    rt = emu.add_post("alice", "", kind="retweet", referenced_id=orig, created_at=START + hour)
    qt = emu.add_post("alice", "Proud of @bob and team", kind="quote", referenced_id=orig,
                      created_at=START + 2 * hour)
    resp = client.get_users_tweets(
        alice, expansions=["referenced_tweets.id", "referenced_tweets.id.author_id"],
        tweet_fields=["referenced_tweets", "entities", "author_id"], user_fields=["username"])
    quote, retweet = resp.data
    assert (quote.id, retweet.id) == (int(qt), int(rt))
    assert [(r.type, r.id) for r in quote.referenced_tweets] == [("quoted", int(orig))]
    assert [(r.type, r.id) for r in retweet.referenced_tweets] == [("retweeted", int(orig))]
    assert retweet.text.startswith("RT @bob: Shipping #v2 today: https://t.co/")
    assert quote.entities["mentions"] == [{"start": 9, "end": 13, "username": "bob", "id": bob}]
    [included] = resp.includes["tweets"]
    assert included.id == int(orig) and included.author_id == int(bob)
    assert included.entities["urls"][0]["expanded_url"] == "https://example.com/notes"
    assert [u.username for u in resp.includes["users"]] == ["bob"]
    assert client.get_users_tweets(alice).includes == {}  # no expansions asked, none sent


def test_reply_threading(emu: XEmulator, client: tweepy.Client) -> None:
    alice, bob = emu.add_user("alice"), emu.add_user("bob")
    root = emu.add_post("bob", "Question?", created_at=START)
    emu.add_post("alice", "@bob answer", kind="reply", referenced_id=root,
                 created_at=START + timedelta(minutes=5))
    resp = client.get_users_tweets(alice, tweet_fields=["conversation_id", "in_reply_to_user_id"])
    reply = resp.data[0]
    assert reply.conversation_id == int(root) and reply.in_reply_to_user_id == int(bob)
    assert client.get_users_tweets(alice, exclude=["replies"]).meta == {"result_count": 0}


def test_edit_shows_latest_version_only(emu: XEmulator, client: tweepy.Client) -> None:
    uid = emu.add_user("alice")
    first = emu.add_post("alice", "Teh launch", created_at=START)
    second = emu.edit_post(first, "The launch")
    third = emu.edit_post(first, "The launch!")
    resp = client.get_users_tweets(uid, tweet_fields=["edit_history_tweet_ids"])
    [tweet] = resp.data
    assert (tweet.id, tweet.text) == (int(third), "The launch!")
    assert tweet.data["edit_history_tweet_ids"] == [first, second, third]
    assert emu.served_posts == {"alice": 1}


def test_authorization_never_recorded(emu: XEmulator, client: tweepy.Client) -> None:
    uid = emu.add_user("alice")
    client.get_users_tweets(uid)
    client.get_users(usernames=["alice"])
    other = make_client(emu, token="other-secret-456")
    with pytest.raises(tweepy.Unauthorized):
        other.get_users_tweets(uid)
    other.session.close()
    assert len(emu.requests) == 3
    assert all(set(r) == {"method", "path", "params", "status", "account", "fault"}
               for r in emu.requests)
    dumped = json.dumps(emu.requests)
    assert TOKEN not in dumped and "other-secret-456" not in dumped and "Bearer" not in dumped


def test_concurrent_clients_are_counted_exactly(emu: XEmulator) -> None:
    uid = emu.add_user("alice")
    emu.add_posts("alice", 20, start=START)
    clients = [make_client(emu, timeout=10) for _ in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:  # while posts keep arriving
        futures = [pool.submit(c.get_users_tweets, uid, max_results=5) for c in clients * 5]
        emu.add_posts("alice", 10, start=START + timedelta(days=30))
        returned = sum(len(f.result().data) for f in futures)
    assert returned == 150 and emu.served_posts == {"alice": 150}
    assert len(emu.requests) == 30
    for c in clients:
        c.session.close()


@pytest.mark.slow
def test_script_mode_serves_jsonl(tmp_path: Path) -> None:
    posts = tmp_path / "posts.jsonl"
    rows = [{"username": "cli", "text": f"post {i}", "created_at": f"2026-10-0{i}T08:00:00Z"}
            for i in range(1, 4)]
    posts.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    script = Path(__file__).with_name("x_emulator.py")
    cmd = [sys.executable, str(script), "--port", "0", "--token", TOKEN, "--jsonl", str(posts)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        client = tweepy.Client(bearer_token=TOKEN)
        rebase_session(client, base_url, timeout=5)
        user = client.get_user(username="cli").data
        texts = [t.text for t in client.get_users_tweets(user.id).data]
        assert texts == ["post 3", "post 2", "post 1"]
        client.session.close()
    finally:
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends: the script exits cleanly
        assert proc.wait(timeout=10) == 0
        if proc.stdout is not None:
            proc.stdout.close()
