"""AWS signatures made by real clients, verified by translators.aws_auth.

Requests are signed by botocore's own signers, by boto3 clients and by apache-libcloud, either
in-process (AWSRequest) or sent over real HTTP(S) to a capture server that records the request
line, headers and body exactly as received. Every positive check also verifies that another
secret is refused, so a verifier that accepted anything would fail here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import shutil
import ssl
import subprocess
import threading
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, urlsplit

import boto3
import pytest
from botocore.auth import (
    HmacV1Auth,
    HmacV1QueryAuth,
    S3SigV4Auth,
    S3SigV4QueryAuth,
    SigV2Auth,
    SigV4Auth,
    SigV4QueryAuth,
)
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.utils import percent_encode
from libcloud.compute.drivers.ec2 import EC2NodeDriver

from translators.aws_auth import (
    AuthError,
    AuthRequest,
    AuthResult,
    HeadersNotSigned,
    InvalidPresign,
    MalformedAuthorization,
    MissingCredentials,
    PayloadHashMismatch,
    PayloadMode,
    PresignExpired,
    RequestTimeSkewed,
    SignatureMismatch,
    UnknownAccessKey,
    authenticate,
)
from translators.sigv4 import ChunkVerifier

ACCESS_KEY = "AKIDCLOUDGATE0001"
SECRET = "s3cr3t/Key+with~odd=chars"
REGION = "eu-west-3"
CREDENTIALS = Credentials(ACCESS_KEY, SECRET)
S3_KEYS = [
    "plain.txt",
    "with space.txt",
    "plus+sign",
    "tilde~name",
    "equals=sign&amp",
    "double//slash",
    "ünïcødé/日本語",
    "dots/./and/../segments",
    "trailing/",
    "star*quote'paren()!",
    "percent%41literal",
]


def lookup(access_key: str) -> str | None:
    return SECRET if access_key == ACCESS_KEY else None


def check(request: AuthRequest, service: str, now: datetime | None = None) -> AuthResult:
    """Verify, and prove the check is real: the same request under another secret fails."""
    result = authenticate(request, service=service, lookup_secret=lookup, now=now)
    assert result.access_key == ACCESS_KEY
    with pytest.raises(SignatureMismatch):
        authenticate(request, service=service, lookup_secret=lambda _: SECRET + "x", now=now)
    return result


def reject(request: AuthRequest, service: str, now: datetime | None = None) -> AuthError:
    with pytest.raises(AuthError) as caught:
        authenticate(request, service=service, lookup_secret=lookup, now=now)
    return caught.value


def on_the_wire(
    url: str,
    headers: Iterable[tuple[str, str]] = (),
    *,
    method: str = "GET",
    body: bytes | None = None,
    bucket: str | None = None,
) -> AuthRequest:
    """What a server receives for `url`: raw path and query, headers plus Host."""
    parts = urlsplit(url)
    pairs = [("Host", parts.netloc), *headers]
    return AuthRequest.from_wire(method, parts.path, parts.query, pairs, body=body, bucket=bucket)


def sign(auth: object, method: str, url: str, **kwargs: object) -> AuthRequest:
    """Sign an AWSRequest with a botocore signer and return it as the server sees it."""
    bucket = kwargs.pop("bucket", None)
    request = AWSRequest(method=method, url=url, **kwargs)  # type: ignore[arg-type]
    if bucket:
        # botocore signs the full /bucket/key path for virtual-hosted requests.
        request.auth_path = f"/{bucket}{urlsplit(url).path}"
    auth.add_auth(request)  # type: ignore[attr-defined]
    prepared = request.prepare()
    body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
    return on_the_wire(
        prepared.url, list(request.headers.items()), method=method, body=body or b"", bucket=bucket
    )


def s3_url(key: str, host: str = "127.0.0.1:8789", bucket: str = "bkt") -> str:
    # botocore's rest serializer encodes a greedy key label with safe="/~".
    return f"http://{host}/{bucket}/{percent_encode(key, safe='/~')}"


def tampered(request: AuthRequest, **changes: object) -> AuthRequest:
    return replace(request, **changes)  # type: ignore[arg-type]


class FixedPayloadS3Auth(S3SigV4Auth):
    """S3SigV4Auth declaring a given x-amz-content-sha256 token (botocore itself only emits
    literal hashes, UNSIGNED-PAYLOAD and STREAMING-UNSIGNED-PAYLOAD-TRAILER)."""

    def __init__(self, token: str) -> None:
        super().__init__(CREDENTIALS, "s3", REGION)
        self.token = token

    def payload(self, request: AWSRequest) -> str:
        return self.token


# --- SigV4 header ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", S3_KEYS)
@pytest.mark.parametrize(
    "params",
    [
        None,
        {"prefix": "a b+c~d/é", "delimiter": "/"},
        {"versionId": ""},
        [("tag", "2"), ("tag", "1"), ("Tag", "0")],
    ],
)
def test_s3_header_sigv4_paths_and_queries(key: str, params: object) -> None:
    request = sign(
        S3SigV4Auth(CREDENTIALS, "s3", REGION),
        "PUT",
        s3_url(key),
        data=b"object body",
        params=params,
        headers={"x-amz-meta-note": "  lots   of   spaces ", "Content-Type": "text/plain"},
    )
    result = check(request, "s3")
    assert (result.region, result.service, result.signature_version) == (REGION, "s3", 4)
    assert result.payload is PayloadMode.SIGNED


@pytest.mark.parametrize("query", ["acl", "uploads", "acl=", "uploadId=abc%2Bdef&partNumber=2"])
def test_s3_header_sigv4_subresource_in_url(query: str) -> None:
    request = sign(S3SigV4Auth(CREDENTIALS, "s3", REGION), "GET", s3_url("k") + "?" + query)
    check(request, "s3")


def test_s3_path_signed_as_sent_or_in_rfc3986_form() -> None:
    as_sent = sign(S3SigV4Auth(CREDENTIALS, "s3", REGION), "GET", s3_url("k").replace("k", "a!b'c"))
    check(as_sent, "s3")
    # A client may send `!` and `'` unencoded yet sign the RFC 3986 encoding of the key.
    encoded = sign(S3SigV4Auth(CREDENTIALS, "s3", REGION), "GET", s3_url("a!b'c"))
    assert encoded.path == "/bkt/a%21b%27c"
    check(tampered(encoded, path="/bkt/a!b'c"), "s3")


def test_s3_header_sigv4_repeated_header_values_are_joined() -> None:
    headers = AWSRequest().headers
    headers["X-Amz-Meta-Multi"] = "first"
    headers["X-Amz-Meta-Multi"] = "second"
    request = sign(S3SigV4Auth(CREDENTIALS, "s3", REGION), "GET", s3_url("k"), headers=headers)
    assert request.headers["x-amz-meta-multi"] == ("first", "second")
    check(request, "s3")


def test_s3_sigv4_with_date_header_instead_of_x_amz_date() -> None:
    request = sign(
        S3SigV4Auth(CREDENTIALS, "s3", REGION), "GET", s3_url("k"), headers={"Date": "x"}
    )
    assert request.header("x-amz-date") is None and request.header("date")
    check(request, "s3")


def test_s3_sigv4_body_hash_is_checked_when_the_body_is_at_hand() -> None:
    request = sign(S3SigV4Auth(CREDENTIALS, "s3", REGION), "PUT", s3_url("k"), data=b"hello")
    with pytest.raises(PayloadHashMismatch):
        authenticate(tampered(request, body=b"hellO"), service="s3", lookup_secret=lookup)
    # Streaming front ends pass no body: the signed hash comes back to be checked later.
    result = check(tampered(request, body=None), "s3")
    assert result.expected_content_sha256 == hashlib.sha256(b"hello").hexdigest()


@pytest.mark.parametrize("mode", [m for m in PayloadMode if m is not PayloadMode.SIGNED])
def test_s3_sigv4_payload_tokens(mode: PayloadMode) -> None:
    request = sign(FixedPayloadS3Auth(mode.value), "PUT", s3_url("k"), data=b"ignored")
    result = check(tampered(request, body=None), "s3")
    assert result.payload is mode
    assert result.expected_content_sha256 is None
    assert (result.chunk_signing is not None) == mode.chunk_signed


def test_s3_sigv4_unknown_payload_token_is_malformed() -> None:
    request = sign(
        FixedPayloadS3Auth("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"), "PUT", s3_url("k")
    )
    assert isinstance(reject(tampered(request, body=None), "s3"), MalformedAuthorization)


@pytest.mark.parametrize(
    "path", ["/", "/a%20b", "/x/./y/../z", "//double//slash/", "/%7Euser/~tilde", "/%C3%BC+"]
)
def test_ec2_sigv4_normalizes_and_double_encodes_the_path(path: str) -> None:
    request = sign(SigV4Auth(CREDENTIALS, "ec2", REGION), "GET", f"http://127.0.0.1:8788{path}")
    check(request, "ec2")


def test_ec2_sigv4_form_post_and_tampered_body() -> None:
    body = (
        "Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=tag%3AName&Filter.1.Value.1=a+b"
    )
    request = sign(
        SigV4Auth(CREDENTIALS, "ec2", REGION),
        "POST",
        "http://127.0.0.1:8788/",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    assert check(request, "ec2").payload is PayloadMode.SIGNED
    forged = body.replace("a+b", "evil").encode()
    assert isinstance(reject(tampered(request, body=forged), "ec2"), SignatureMismatch)


def test_ec2_unsigned_payload_only_with_an_empty_body() -> None:
    request = sign(
        SigV4Auth(CREDENTIALS, "ec2", REGION),
        "POST",
        "http://127.0.0.1:8788/",
        headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"},
    )
    check(request, "ec2")
    with pytest.raises(PayloadHashMismatch):
        authenticate(
            tampered(request, body=b"Action=RunInstances"), service="ec2", lookup_secret=lookup
        )


# --- SigV4 presigned ------------------------------------------------------------------------


def s3_client(**config: object) -> object:
    return boto3.client(
        "s3",
        endpoint_url=config.pop("endpoint_url", "http://127.0.0.1:8789"),
        region_name=config.pop("region_name", REGION),
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET,
        config=Config(**config),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("key", S3_KEYS)
@pytest.mark.parametrize("style", ["path", "virtual"])
def test_boto3_presigned_sigv4(key: str, style: str) -> None:
    client = s3_client(
        endpoint_url="http://s3.example.test:8789",
        signature_version="s3v4",
        s3={"addressing_style": style},
    )
    url = client.generate_presigned_url(  # type: ignore[attr-defined]
        "get_object",
        Params={"Bucket": "bkt", "Key": key, "ResponseContentDisposition": 'inline; f="a b"'},
        ExpiresIn=900,
    )
    result = check(on_the_wire(url), "s3")
    assert result.presigned and result.payload is PayloadMode.UNSIGNED
    assert result.expires_at == result.signed_at + timedelta(seconds=900)
    other_key = (
        url.replace("/bkt/", "/bkt/x") if style == "path" else url.replace(":8789/", ":8789/x")
    )
    assert isinstance(reject(on_the_wire(other_key), "s3"), SignatureMismatch)


def test_presigned_put_with_botocore_query_signer() -> None:
    request = sign(S3SigV4QueryAuth(CREDENTIALS, "s3", REGION, expires=60), "PUT", s3_url("a b"))
    assert check(tampered(request, body=None, method="PUT"), "s3").presigned
    assert isinstance(reject(tampered(request, method="GET"), "s3"), SignatureMismatch)


def test_ec2_presigned_query() -> None:
    request = sign(
        SigV4QueryAuth(CREDENTIALS, "ec2", REGION, expires=60),
        "GET",
        "http://127.0.0.1:8788/?Action=DescribeRegions&Version=2016-11-15",
    )
    assert check(request, "ec2").presigned


def test_presign_expiry_window() -> None:
    client = s3_client(signature_version="s3v4")
    url = client.generate_presigned_url(  # type: ignore[attr-defined]
        "get_object", Params={"Bucket": "bkt", "Key": "k"}, ExpiresIn=3600
    )
    now = datetime.now(UTC)
    check(on_the_wire(url), "s3", now=now + timedelta(seconds=3500))
    late = reject(on_the_wire(url), "s3", now=now + timedelta(seconds=3700))
    assert isinstance(late, PresignExpired) and late.message == "Request has expired"
    early = reject(on_the_wire(url), "s3", now=now - timedelta(minutes=20))
    assert isinstance(early, PresignExpired) and "not valid yet" in early.message


@pytest.mark.parametrize(("expires", "ok"), [(604800, True), (604801, False)])
def test_presign_longer_than_a_week_is_refused(expires: int, ok: bool) -> None:
    client = s3_client(signature_version="s3v4")
    url = client.generate_presigned_url(  # type: ignore[attr-defined]
        "get_object", Params={"Bucket": "bkt", "Key": "k"}, ExpiresIn=expires
    )
    if ok:
        check(on_the_wire(url), "s3")
    else:
        error = reject(on_the_wire(url), "s3")
        assert isinstance(error, InvalidPresign) and error.s3_code == (
            "AuthorizationQueryParametersError"
        )


# --- SigV2 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", S3_KEYS)
@pytest.mark.parametrize(
    "query",
    [
        "",
        "acl",
        "uploads",
        "delete=",
        "uploadId=abc%2Bdef&partNumber=3",
        "response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22"
        "&response-content-type=text%2Fplain",
        "versionId=v1&prefix=not-a-subresource&max-keys=3",
    ],
)
def test_s3_sigv2_header(key: str, query: str) -> None:
    url = s3_url(key) + ("?" + query if query else "")
    headers = {
        "Content-Type": "application/octet-stream",
        "Content-MD5": base64.b64encode(hashlib.md5(b"x").digest()).decode(),
        "x-amz-meta-Note": " padded ",
        "x-amz-acl": "private",
    }
    result = check(sign(HmacV1Auth(CREDENTIALS), "PUT", url, data=b"x", headers=headers), "s3")
    assert (result.signature_version, result.region) == (2, None)


@pytest.mark.parametrize("key", ["k", "a b/ü", ""])
def test_s3_sigv2_virtual_hosted_signs_the_bucket(key: str) -> None:
    url = f"http://bkt.s3.example.test:8789/{percent_encode(key, safe='/~')}"
    request = sign(HmacV1Auth(CREDENTIALS), "GET", url, bucket="bkt")
    check(request, "s3")
    assert isinstance(reject(tampered(request, bucket="other"), "s3"), SignatureMismatch)


def test_s3_sigv2_with_x_amz_date_and_empty_date_line() -> None:
    """s3cmd sends x-amz-date and no Date, and signs an empty Date line (AWS's rule)."""
    amz_date = formatdate(usegmt=True)
    string_to_sign = f"GET\n\n\n\nx-amz-date:{amz_date}\n/bkt/a%20b?acl"
    signature = base64.b64encode(
        hmac.new(SECRET.encode(), string_to_sign.encode(), hashlib.sha1).digest()
    ).decode()
    headers = [("x-amz-date", amz_date), ("Authorization", f"AWS {ACCESS_KEY}:{signature}")]
    check(on_the_wire("http://127.0.0.1:8789/bkt/a%20b?acl", headers), "s3")


def test_s3_sigv2_with_both_date_headers_signs_an_empty_date_line() -> None:
    """AWS: "if you include the x-amz-date header, use the empty string for the Date"."""
    date = formatdate(usegmt=True)
    string_to_sign = f"GET\n\n\n\nx-amz-date:{date}\n/bkt/k"
    signature = base64.b64encode(
        hmac.new(SECRET.encode(), string_to_sign.encode(), hashlib.sha1).digest()
    ).decode()
    headers = [
        ("Date", date),
        ("x-amz-date", date),
        ("Authorization", f"AWS {ACCESS_KEY}:{signature}"),
    ]
    check(on_the_wire("http://127.0.0.1:8789/bkt/k", headers), "s3")


def test_s3_sigv2_header_clock_skew() -> None:
    request = sign(HmacV1Auth(CREDENTIALS), "GET", s3_url("k"))
    check(request, "s3", now=datetime.now(UTC) + timedelta(minutes=14))
    late = reject(request, "s3", now=datetime.now(UTC) + timedelta(minutes=16))
    assert isinstance(late, RequestTimeSkewed) and late.s3_code == "RequestTimeTooSkewed"


@pytest.mark.parametrize("style", ["path", "virtual"])
@pytest.mark.parametrize("key", ["plain", "a b/ü+~=x"])
def test_boto3_default_presign_is_sigv2(style: str, key: str) -> None:
    """In us-east-1 boto3 presigns S3 URLs with SigV2 unless signature_version="s3v4" is set."""
    client = s3_client(
        endpoint_url="http://s3.example.test:8789",
        region_name="us-east-1",
        s3={"addressing_style": style},
    )
    url = client.generate_presigned_url(  # type: ignore[attr-defined]
        "get_object", Params={"Bucket": "bkt", "Key": key, "ResponseContentType": "a/b"}
    )
    assert "AWSAccessKeyId=" in url
    request = on_the_wire(url, bucket="bkt" if style == "virtual" else None)
    result = check(request, "s3")
    assert result.presigned and result.signature_version == 2
    assert isinstance(
        reject(request, "s3", now=result.expires_at + timedelta(seconds=1)), PresignExpired
    )


def test_s3_sigv2_query_signature_with_an_unencoded_plus() -> None:
    """Some tools paste the base64 signature into the URL as is; '+' must not become ' '."""
    for expires in range(2_000_000_000, 2_000_001_000):
        digest = hmac.new(SECRET.encode(), f"GET\n\n\n{expires}\n/bkt/k".encode(), hashlib.sha1)
        signature = base64.b64encode(digest.digest()).decode()
        if "+" in signature:
            break
    url = f"http://127.0.0.1:8789/bkt/k?AWSAccessKeyId={ACCESS_KEY}&Expires={expires}"
    request = on_the_wire(f"{url}&Signature={signature}")
    check(request, "s3", now=datetime.fromtimestamp(expires - 60, UTC))


def test_s3_sigv2_query_signer_with_headers_moved_to_query() -> None:
    request = sign(
        HmacV1QueryAuth(CREDENTIALS, expires=60),
        "PUT",
        s3_url("k"),
        headers={"Content-Type": "text/plain", "x-amz-acl": "public-read"},
    )
    check(tampered(request, headers={"host": request.headers["host"]}), "s3")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_ec2_sigv2_botocore(method: str) -> None:
    params = {"Action": "DescribeImages", "Owner.1": "self", "Filter.1.Value.1": "a b+c~ü*"}
    kwargs: dict[str, object] = (
        {"params": params}
        if method == "GET"
        else {
            "data": params,
            "headers": {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        }
    )
    request = sign(SigV2Auth(CREDENTIALS), method, "http://127.0.0.1:8788/", **kwargs)
    result = check(request, "ec2")
    assert result.signature_version == 2
    later = datetime.now(UTC) + timedelta(minutes=16)
    assert isinstance(reject(request, "ec2", now=later), RequestTimeSkewed)


@pytest.mark.parametrize("signed_host", ["EC2.Example.Test:8788", "ec2.example.test:8788"])
def test_ec2_sigv2_hmac_sha1(signed_host: str) -> None:
    """AWS signs the lowercased Host; botocore and libcloud sign it as configured."""
    params = {
        "Action": "DescribeRegions",
        "AWSAccessKeyId": ACCESS_KEY,
        "SignatureVersion": "2",
        "SignatureMethod": "HmacSHA1",
        "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    query = "&".join(
        f"{quote(k, safe='')}={quote(v, safe='-_.~')}" for k, v in sorted(params.items())
    )
    string_to_sign = f"GET\n{signed_host}\n/\n{query}"
    digest = hmac.new(SECRET.encode(), string_to_sign.encode(), hashlib.sha1)
    signature = quote(base64.b64encode(digest.digest()).decode(), safe="")
    check(on_the_wire(f"http://EC2.Example.Test:8788/?{query}&Signature={signature}"), "ec2")


# --- real clients over real HTTP ------------------------------------------------------------


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
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a certificate for the HTTPS capture server")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


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
def https_server(tls_files: tuple[Path, Path]) -> Iterator[ThreadingHTTPServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*tls_files)
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
    https_server: ThreadingHTTPServer, tls_files: tuple[Path, Path]
) -> None:
    """boto3 ≥ 1.36 over TLS sends a file-like body aws-chunked with an unsigned trailer."""
    client = boto3.client(
        "s3",
        endpoint_url=endpoint(https_server, "https"),
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET,
        verify=str(tls_files[0]),
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


# --- chunk signatures -----------------------------------------------------------------------


def spec_signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = b"AWS4" + secret.encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def spec_chunk_signature(key: bytes, amz_date: str, scope: str, previous: str, data: bytes) -> str:
    """The string to sign from AWS's "Transferring Payload in Multiple Chunks" page."""
    text = "\n".join(
        [
            "AWS4-HMAC-SHA256-PAYLOAD",
            amz_date,
            scope,
            previous,
            hashlib.sha256(b"").hexdigest(),
            hashlib.sha256(data).hexdigest(),
        ]
    )
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def spec_trailer_signature(
    key: bytes, amz_date: str, scope: str, previous: str, trailer: str
) -> str:
    digest = hashlib.sha256(trailer.encode()).hexdigest()
    text = "\n".join(["AWS4-HMAC-SHA256-TRAILER", amz_date, scope, previous, digest])
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def streaming_upload(mode: PayloadMode) -> tuple[AuthResult, list[bytes], list[str], bytes, str]:
    """A botocore-signed streaming PUT plus its chunk signatures computed per the spec."""
    headers = {
        "Content-Encoding": "aws-chunked",
        "x-amz-decoded-content-length": "70000",
        "x-amz-trailer": "x-amz-checksum-crc32",
    }
    request = sign(FixedPayloadS3Auth(mode.value), "PUT", s3_url("big"), headers=headers)
    result = check(tampered(request, body=None), "s3")
    amz_date = request.header("x-amz-date") or ""
    scope = f"{amz_date[:8]}/{REGION}/s3/aws4_request"
    key = spec_signing_key(SECRET, amz_date[:8], REGION, "s3")
    chunks = [b"a" * 65536, b"b" * 4464, b""]
    signatures, previous = [], request.header("authorization").rsplit("=", 1)[1]  # type: ignore[union-attr]
    for chunk in chunks:
        previous = spec_chunk_signature(key, amz_date, scope, previous, chunk)
        signatures.append(previous)
    trailer = "x-amz-checksum-crc32:AAAAAA==\n"
    return (
        result,
        chunks,
        signatures,
        key,
        spec_trailer_signature(key, amz_date, scope, previous, trailer),
    )


def test_chunk_signatures_verify_and_chain() -> None:
    result, chunks, signatures, _, _ = streaming_upload(PayloadMode.STREAMING_SIGNED)
    assert result.chunk_signing is not None
    verifier = ChunkVerifier(result.chunk_signing)
    for chunk, signature in zip(chunks, signatures, strict=True):
        verifier.chunk(hashlib.sha256(chunk).hexdigest(), signature)

    altered = ChunkVerifier(result.chunk_signing)
    with pytest.raises(SignatureMismatch):
        altered.chunk(hashlib.sha256(b"A" + chunks[0][1:]).hexdigest(), signatures[0])
    reordered = ChunkVerifier(result.chunk_signing)
    with pytest.raises(SignatureMismatch):
        reordered.chunk(hashlib.sha256(chunks[1]).hexdigest(), signatures[1])


def test_trailer_signature() -> None:
    result, chunks, signatures, _, trailer_signature = streaming_upload(
        PayloadMode.STREAMING_SIGNED_TRAILER
    )
    assert result.chunk_signing is not None and result.payload.has_trailer
    verifier = ChunkVerifier(result.chunk_signing)
    for chunk, signature in zip(chunks, signatures, strict=True):
        verifier.chunk(hashlib.sha256(chunk).hexdigest(), signature)
    before_trailer = verifier.previous_signature
    verifier.trailer([("x-amz-checksum-crc32", "AAAAAA==")], trailer_signature)
    verifier.previous_signature = before_trailer
    with pytest.raises(SignatureMismatch):
        verifier.trailer([("x-amz-checksum-crc32", "AAAAAB==")], trailer_signature)


AWS_EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
AWS_CHUNKS = [b"a" * 65536, b"a" * 1024, b""]


@pytest.mark.parametrize(
    ("mode", "signed_headers", "seed", "chunk_signatures", "trailer"),
    [
        (
            PayloadMode.STREAMING_SIGNED,
            "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
            "x-amz-decoded-content-length;x-amz-storage-class",
            "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
            [
                "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
                "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
                "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
            ],
            None,
        ),
        (
            PayloadMode.STREAMING_SIGNED_TRAILER,
            "content-encoding;host;x-amz-content-sha256;x-amz-date;"
            "x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer",
            "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
            [
                "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
                "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
                "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
            ],
            "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435",
        ),
    ],
)
def test_aws_published_streaming_examples(
    mode: PayloadMode,
    signed_headers: str,
    seed: str,
    chunk_signatures: list[str],
    trailer: str | None,
) -> None:
    """The documented PUT chunkObject.txt examples from the S3 API reference."""
    headers = {
        "Host": "s3.amazonaws.com",
        "x-amz-date": "20130524T000000Z",
        "x-amz-storage-class": "REDUCED_REDUNDANCY",
        "x-amz-content-sha256": mode.value,
        "Content-Encoding": "aws-chunked",
        "x-amz-decoded-content-length": "66560",
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/"
        f"s3/aws4_request, SignedHeaders={signed_headers}, Signature={seed}",
        **({"x-amz-trailer": "x-amz-checksum-crc32c"} if trailer else {"Content-Length": "66824"}),
    }
    request = AuthRequest.from_wire("PUT", "/examplebucket/chunkObject.txt", "", headers)
    result = authenticate(
        request,
        service="s3",
        lookup_secret={"AKIAIOSFODNN7EXAMPLE": AWS_EXAMPLE_SECRET}.get,
        now=datetime(2013, 5, 24, 0, 1, tzinfo=UTC),
    )
    assert result.chunk_signing is not None and result.payload is mode
    verifier = ChunkVerifier(result.chunk_signing)
    for chunk, signature in zip(AWS_CHUNKS, chunk_signatures, strict=True):
        verifier.chunk(hashlib.sha256(chunk).hexdigest(), signature)
    if trailer:
        verifier.trailer([("x-amz-checksum-crc32c", "sOO8/Q==")], trailer)


# --- error paths ----------------------------------------------------------------------------


def fresh_s3_request() -> AuthRequest:
    return sign(S3SigV4Auth(CREDENTIALS, "s3", REGION), "GET", s3_url("k"))


def test_tampered_signature_reports_the_canonical_request() -> None:
    request = fresh_s3_request()
    authorization = request.header("authorization") or ""
    flipped = authorization[:-1] + ("0" if authorization[-1] != "0" else "1")
    headers = {**request.headers, "authorization": (flipped,)}
    error = reject(tampered(request, headers=headers), "s3")
    assert isinstance(error, SignatureMismatch) and error.s3_code == "SignatureDoesNotMatch"
    assert error.canonical_request.startswith("GET\n/bkt/k\n")
    assert error.string_to_sign.startswith("AWS4-HMAC-SHA256\n")
    assert SECRET not in repr(vars(error))


def test_unknown_access_key() -> None:
    with pytest.raises(UnknownAccessKey) as caught:
        authenticate(fresh_s3_request(), service="s3", lookup_secret=lambda _: None)
    assert caught.value.access_key == ACCESS_KEY
    assert (caught.value.s3_code, caught.value.ec2_code) == ("InvalidAccessKeyId", "AuthFailure")


@pytest.mark.parametrize(("minutes", "ok"), [(-14, True), (14, True), (-16, False), (16, False)])
def test_header_clock_skew(minutes: int, ok: bool) -> None:
    request = fresh_s3_request()
    now = datetime.now(UTC) + timedelta(minutes=minutes)
    if ok:
        check(request, "s3", now=now)
    else:
        error = reject(request, "s3", now=now)
        assert isinstance(error, RequestTimeSkewed) and error.ec2_code == "RequestExpired"


def test_unsigned_x_amz_header_is_refused_for_s3() -> None:
    request = fresh_s3_request()
    headers = {**request.headers, "x-amz-acl": ("public-read",)}
    error = reject(tampered(request, headers=headers), "s3")
    assert isinstance(error, HeadersNotSigned) and error.names == ("x-amz-acl",)


def with_authorization(value: str) -> AuthRequest:
    request = fresh_s3_request()
    return tampered(request, headers={**request.headers, "authorization": (value,)})


def test_malformed_authorization_headers() -> None:
    good = fresh_s3_request().header("authorization") or ""
    credential = good.split("Credential=")[1].split(",")[0]
    date = credential.split("/")[1]
    bad = [
        "Bearer abc",
        "AWS4-HMAC-SHA256",
        good.split(", Signature=")[0],
        good.replace("SignedHeaders=", "Headers="),
        good.replace(credential, credential.rsplit("/", 1)[0]),
        good.replace("/aws4_request", "/aws5_request"),
        good.replace("/s3/", "/ec2/"),
        good.replace(f"/{date}/", "/20000101/"),
        good.replace(f"/{date}/", "/2000-1-1/"),
        "AWS no-colon-here",
    ]
    for value in bad:
        error = reject(with_authorization(value), "s3")
        assert isinstance(error, MalformedAuthorization), value
        assert error.s3_code == "AuthorizationHeaderMalformed" and error.message


def test_sigv2_header_is_not_accepted_for_ec2() -> None:
    request = sign(HmacV1Auth(CREDENTIALS), "GET", "http://127.0.0.1:8788/")
    assert isinstance(reject(request, "ec2"), MalformedAuthorization)


def test_missing_and_doubled_credentials() -> None:
    anonymous = on_the_wire(s3_url("k"))
    error = reject(anonymous, "s3")
    assert isinstance(error, MissingCredentials) and error.ec2_code == (
        "MissingAuthenticationToken"
    )
    client = s3_client(signature_version="s3v4")
    url = client.generate_presigned_url(  # type: ignore[attr-defined]
        "get_object", Params={"Bucket": "bkt", "Key": "k"}
    )
    authorization = fresh_s3_request().header("authorization") or ""
    both = on_the_wire(url, [("Authorization", authorization)])
    assert isinstance(reject(both, "s3"), MalformedAuthorization)


@pytest.mark.parametrize("drop", ["X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders"])
def test_presign_with_missing_parameter(drop: str) -> None:
    client = s3_client(signature_version="s3v4")
    url = client.generate_presigned_url(  # type: ignore[attr-defined]
        "get_object", Params={"Bucket": "bkt", "Key": "k"}
    )
    base, query = url.split("?")
    kept = "&".join(p for p in query.split("&") if not p.startswith(drop + "="))
    assert isinstance(reject(on_the_wire(f"{base}?{kept}"), "s3"), InvalidPresign)


def test_every_error_is_an_auth_error_with_a_message() -> None:
    for error_type in (
        MissingCredentials,
        MalformedAuthorization,
        InvalidPresign,
        UnknownAccessKey,
        SignatureMismatch,
        PayloadHashMismatch,
        HeadersNotSigned,
        RequestTimeSkewed,
        PresignExpired,
    ):
        assert issubclass(error_type, AuthError)
        assert error_type.s3_code and error_type.ec2_code
