"""The error boundary, in process on a real SQLite database: an unexpected exception becomes
InternalError 500 with the request id — logged, never a stack trace on the wire."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from core.bootstrap import bootstrap
from core.db import Database
from core.runtime import Runtime
from core.schema import upgrade
from ec2_api.actions import ACTIONS, Action
from ec2_api.app import Ec2Api, WireRequest

ACCESS_KEY, SECRET_KEY = "AKBOUNDARY", "boundary-secret"


@pytest.fixture
def api(tmp_path: Path) -> Any:
    database = Database(f"sqlite:///{tmp_path / 'cloudgate.db'}")
    upgrade(database)
    with database.write() as session:
        bootstrap(session, admin_api_key=ACCESS_KEY, admin_secret_key=SECRET_KEY)
    yield Ec2Api(Runtime(db=database, hypervisor=lambda name: None, msid="test"), "cloudgate")
    database.dispose()


def signed(params: dict[str, str]) -> WireRequest:
    body = urlencode(params)
    request = AWSRequest(
        method="POST",
        url="http://127.0.0.1:8788/",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "ec2", "cloudgate").add_auth(request)
    headers = [(k.lower().encode(), v.encode()) for k, v in request.headers.items()]
    headers.append((b"host", b"127.0.0.1:8788"))
    return WireRequest("POST", b"/", b"", headers, body.encode(), "127.0.0.1:8788")


def explode(call: Any) -> None:
    raise RuntimeError("secret detail from deep inside")


def test_unexpected_error_is_an_internal_error_with_request_id(
    api: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(ACTIONS, "DescribeRegions", Action("DescribeRegions", explode))
    with caplog.at_level(logging.ERROR, logger="ec2_api.app"):
        response = api.handle(signed({"Action": "DescribeRegions", "Version": "2016-11-15"}))
    assert response.status_code == 500
    body = response.body.decode()
    assert "secret detail" not in body and "Traceback" not in body
    root = ET.fromstring(body)
    assert root.find("Errors/Error/Code").text == "InternalError"
    request_id = root.find("RequestID").text
    assert request_id and request_id in root.find("Errors/Error/Message").text
    [record] = caplog.records
    assert request_id in record.getMessage()
    assert record.exc_info is not None  # the stack trace goes to the log


def test_the_same_request_succeeds_without_the_fault(api: Any) -> None:
    response = api.handle(signed({"Action": "DescribeRegions", "Version": "2016-11-15"}))
    assert response.status_code == 200
    assert b"<regionName>cloudgate</regionName>" in response.body
