"""Real clients (boto3, apache-libcloud) over real HTTP(S) to a capture server; what it
received is verified by translators.aws_auth.
"""

from __future__ import annotations

import io
import ssl
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from botocore.config import Config
from libcloud.compute.drivers.ec2 import EC2NodeDriver

from tests.support.aws_signing import ACCESS_KEY, REGION, S3_KEYS, SECRET, check, s3_client
from tests.support.tls import TlsFiles, make_certificates
from translators.aws_auth import AuthRequest, PayloadMode


@dataclass
class Captured:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes

    def as_auth_request(self, *, with_body: bool = True) -> AuthRequest:
        path, _, query = self.target.partition("?")
        return AuthRequest.from_wire(
            self.method, path, query, self.headers, body=self.body if with_body else None
        )


class CaptureHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _handle(self) -> None:
        server = self.server
        body = self._read_body()
        server.captured.append(  # type: ignore[attr-defined]
            Captured(self.command, self.path, list(self.headers.items()), body)
        )
        reply = server.reply  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _handle

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", ""):
            data = b""
            while size := int(self.rfile.readline().split(b";")[0], 16):
                data += self.rfile.read(size)
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b""):
                pass
            return data
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_certificates(tmp_path_factory.mktemp("tls"))


def _serve(context: ssl.SSLContext | None) -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), CaptureHandler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.captured = []  # type: ignore[attr-defined]
    server.reply = b""  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def http_server() -> Iterator[ThreadingHTTPServer]:
    yield from _serve(None)


@pytest.fixture
def https_server(tls_files: TlsFiles) -> Iterator[ThreadingHTTPServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls_files.certfile, tls_files.keyfile)
    yield from _serve(context)


def endpoint(server: ThreadingHTTPServer, scheme: str = "http") -> str:
    return f"{scheme}://127.0.0.1:{server.server_address[1]}"


EC2_XMLNS = "http://ec2.amazonaws.com/doc/2016-11-15/"


def test_boto3_ec2_over_http(http_server: ThreadingHTTPServer) -> None:
    http_server.reply = (  # type: ignore[attr-defined]
        f'<DescribeRegionsResponse xmlns="{EC2_XMLNS}"><requestId>r</requestId>'
        "<regionInfo/></DescribeRegionsResponse>"
    ).encode()
    ec2 = boto3.client(
        "ec2",
        endpoint_url=endpoint(http_server),
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET,
    )
    ec2.describe_regions(RegionNames=["a b", "ü~+"])
    (captured,) = http_server.captured  # type: ignore[attr-defined]
    assert captured.method == "POST"
    check(captured.as_auth_request(), "ec2")


def test_boto3_s3_over_http(http_server: ThreadingHTTPServer) -> None:
    client = s3_client(endpoint_url=endpoint(http_server), s3={"addressing_style": "path"})
    for key in S3_KEYS:
        client.put_object(Bucket="bkt", Key=key, Body=b"payload", Metadata={"n": "v"})  # type: ignore[attr-defined]
    http_server.reply = (  # type: ignore[attr-defined]
        b'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bkt</Name>'
        b"<KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>"
    )
    client.list_objects_v2(Bucket="bkt", Prefix="a b+ü~", StartAfter="=&")  # type: ignore[attr-defined]
    assert len(http_server.captured) == len(S3_KEYS) + 1  # type: ignore[attr-defined]
    for captured in http_server.captured:  # type: ignore[attr-defined]
        check(captured.as_auth_request(), "s3")


def test_boto3_presigned_url_fetched_over_http(http_server: ThreadingHTTPServer) -> None:
    client = s3_client(endpoint_url=endpoint(http_server), signature_version="s3v4")
    url = client.generate_presigned_url(  # type: ignore[attr-defined]
        "get_object", Params={"Bucket": "bkt", "Key": "a b/ü+~=x"}, ExpiresIn=60
    )
    with urllib.request.urlopen(url) as response:
        response.read()
    (captured,) = http_server.captured  # type: ignore[attr-defined]
    assert check(captured.as_auth_request(), "s3").presigned


def test_boto3_streaming_trailer_upload_over_https(
    https_server: ThreadingHTTPServer, tls_files: TlsFiles
) -> None:
    """boto3 ≥ 1.36 over TLS sends a file-like body aws-chunked with an unsigned trailer."""
    client = boto3.client(
        "s3",
        endpoint_url=endpoint(https_server, "https"),
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET,
        verify=str(tls_files.ca_bundle),
        config=Config(s3={"addressing_style": "path"}),
    )
    client.put_object(Bucket="bkt", Key="stream é", Body=io.BytesIO(b"x" * 5000))
    (captured,) = https_server.captured  # type: ignore[attr-defined]
    result = check(captured.as_auth_request(with_body=False), "s3")
    assert result.payload is PayloadMode.STREAMING_UNSIGNED_TRAILER
    assert result.payload.aws_chunked and result.payload.has_trailer


LIBCLOUD_REPLY = (
    f'<DescribeInstancesResponse xmlns="{EC2_XMLNS}"><requestId>r</requestId>'
    "<reservationSet/></DescribeInstancesResponse>"
).encode()


@pytest.mark.parametrize("version", [None, "4"])
def test_libcloud_ec2_driver(http_server: ThreadingHTTPServer, version: str | None) -> None:
    """libcloud's EC2 driver signs SigV2 by default (us-east-1), SigV4 when asked."""
    http_server.reply = LIBCLOUD_REPLY  # type: ignore[attr-defined]
    driver = EC2NodeDriver(
        ACCESS_KEY,
        SECRET,
        host="127.0.0.1",
        port=http_server.server_address[1],
        secure=False,
        **({"signature_version": version} if version else {}),
    )
    assert driver.list_nodes(ex_filters={"tag:Name": "a b+ü~"}) == []
    (captured,) = http_server.captured  # type: ignore[attr-defined]
    request = captured.as_auth_request()
    if version is None:
        assert request.query_value("SignatureVersion") == "2"
    result = check(request, "ec2")
    assert result.signature_version == (4 if version else 2)
