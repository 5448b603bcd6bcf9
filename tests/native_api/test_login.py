"""login/logout as CloudStack's UI and CloudMonkey use them: a JSESSIONID cookie plus the
session key, no signature."""

from __future__ import annotations

import uuid

import httpx

from tests.support.native import NativeCaller
from tests.support.server import ServerProcess


def _user(admin: NativeCaller, password: str = "s3cret") -> dict:
    name = f"login-{uuid.uuid4().hex[:6]}"
    return admin.call(
        "createAccount",
        username=name,
        password=password,
        email="l@x",
        firstname="Lo",
        lastname="Gin",
        accounttype=0,
    )["account"]


def _login(server: ServerProcess, client: httpx.Client, **form: str) -> httpx.Response:
    return client.post(server.native_url, data={"command": "login", "response": "json", **form})


def test_login_session_and_logout(admin: NativeCaller, server: ServerProcess) -> None:
    account = _user(admin)
    with httpx.Client() as client:
        reply = _login(server, client, username=account["name"], password="s3cret", domain="/")
        assert reply.status_code == 200, reply.text
        body = reply.json()["loginresponse"]
        assert body["username"] == account["name"]
        assert body["account"] == account["name"]
        assert body["type"] == "0" and body["timeout"] == "1800"
        assert body["userid"] == account["user"][0]["id"]
        assert body["domainid"] == account["domainid"]
        assert client.cookies["JSESSIONID"] and client.cookies["sessionkey"] == body["sessionkey"]

        listed = client.get(
            server.native_url,
            params={
                "command": "listAccounts",
                "response": "json",
                "sessionkey": body["sessionkey"],
            },
        )
        assert listed.status_code == 200, listed.text
        accounts = listed.json()["listaccountsresponse"]["account"]
        assert [a["id"] for a in accounts] == [account["id"]]

        # the cookie alone with a wrong key, or no cookie, is not a session
        wrong = client.get(
            server.native_url,
            params={"command": "listZones", "response": "json", "sessionkey": "nope"},
        )
        assert wrong.status_code == 401
        session_id = client.cookies["JSESSIONID"]
        bare = httpx.get(
            server.native_url,
            params={"command": "listZones", "response": "json", "sessionkey": body["sessionkey"]},
        )
        assert bare.status_code == 401

        out = client.get(server.native_url, params={"command": "logout", "response": "json"})
        assert out.status_code == 200
        assert out.json()["logoutresponse"]["description"] == "success"
        after = httpx.get(
            server.native_url,
            params={"command": "listZones", "response": "json", "sessionkey": body["sessionkey"]},
            cookies={"JSESSIONID": session_id},
        )
        assert after.status_code == 401


def test_login_by_domain_path_and_id(admin: NativeCaller, server: ServerProcess) -> None:
    domain = admin.call("createDomain", name=f"d{uuid.uuid4().hex[:6]}")["domain"]
    name = f"sub-{uuid.uuid4().hex[:6]}"
    admin.call(
        "createAccount",
        username=name,
        password="pw",
        email="e@x",
        firstname="f",
        lastname="l",
        accounttype=0,
        domainid=domain["id"],
    )
    with httpx.Client() as client:
        assert _login(server, client, username=name, password="pw", domain="/").status_code == 531
        by_path = _login(
            server, client, username=name, password="pw", domain=f"ROOT/{domain['name']}"
        )
        assert by_path.status_code == 200
        by_slash = _login(server, client, username=name, password="pw", domain=f"/{domain['name']}")
        assert by_slash.status_code == 200
        by_id = _login(server, client, username=name, password="pw", domainId=domain["id"])
        assert by_id.json()["loginresponse"]["domainid"] == domain["id"]


def test_bad_credentials_answer_531(admin: NativeCaller, server: ServerProcess) -> None:
    account = _user(admin)
    with httpx.Client() as client:
        reply = _login(server, client, username=account["name"], password="wrong")
        assert reply.status_code == 531
        body = reply.json()["loginresponse"]
        assert body["errorcode"] == 531
        assert "Failed to authenticate user" in body["errortext"]
        assert "JSESSIONID" not in client.cookies
        by_get = client.get(
            server.native_url,
            params={
                "command": "login",
                "username": account["name"],
                "password": "s3cret",
                "response": "json",
            },
        )
        assert by_get.status_code == 405


def test_disabling_the_user_ends_its_session(admin: NativeCaller, server: ServerProcess) -> None:
    account = _user(admin)
    with httpx.Client() as client:
        key = _login(server, client, username=account["name"], password="s3cret").json()[
            "loginresponse"
        ]["sessionkey"]
        params = {"command": "listZones", "response": "json", "sessionkey": key}
        assert client.get(server.native_url, params=params).status_code == 200
        admin.call("lockUser", id=account["user"][0]["id"])
        assert client.get(server.native_url, params=params).status_code == 401
        admin.call("enableUser", id=account["user"][0]["id"])
        # locked users cannot log in again either until enabled
        admin.call("lockAccount", account=account["name"], domainid=account["domainid"])
        assert (
            _login(server, client, username=account["name"], password="s3cret").status_code == 531
        )
