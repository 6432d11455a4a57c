"""BatchWriteItem on the wire: botocore's signer and HTTP session, without its serializer.

The generated transformers already produce items in DynamoDB's JSON wire format
(`{"S": ...}`, `{"N": "..."}`), so the backfill's hot call needs none of what botocore's client
does per request besides signing and sending: validating every attribute value against the
service model, walking the shape to serialize it and walking the response to parse it cost
more client CPU than converting the rows did (bench/migrate.py measures the difference). This
module sends `json.dumps` of the request, signed with botocore's SigV4 signer (credentials
refresh as usual) over botocore's `URLLib3Session` (its TLS, proxy and certificate handling),
checks the response's `x-amz-crc32` like botocore does, and raises botocore's own `ClientError`
for an error response, so `Sink`'s retry loop treats both paths the same way.

`batch_write_item` and `scan` take this path (`migrate validate --full` reads every item; a
Scan page parsed by botocore cost more than comparing its items); every other call goes to
the wrapped boto3 client. `scan` returns the wire's JSON as is: `B`/`BS` values stay base64
text (the validator decodes them), every other value has botocore's shape.
"""

from __future__ import annotations

import base64
import json
import socket
import zlib
from typing import Any

TARGET = "DynamoDB_20120810.BatchWriteItem"
PREFIX = "DynamoDB_20120810."
CONTENT_TYPE = "application/x-amz-json-1.0"


class WireClient:
    """A boto3 DynamoDB client whose `batch_write_item` skips botocore's (de)serialization.

    Thread-safe like the client it wraps (the HTTP session pools `max_pool_connections`).
    """

    def __init__(
        self, client: Any, credentials: Any, *, max_pool_connections: int = 10, timeout: float = 60
    ) -> None:
        from botocore.auth import SigV4Auth
        from botocore.httpsession import URLLib3Session

        self._client = client  # first: __getattr__ reads it (also on a traceback's frame)
        if credentials is None:
            from botocore.exceptions import NoCredentialsError

            raise NoCredentialsError()
        self.endpoint_url = client.meta.endpoint_url.rstrip("/") + "/"
        self._signer = SigV4Auth(credentials, "dynamodb", client.meta.region_name)
        verify = getattr(client.meta.config, "verify", None)
        options: dict[str, Any] = {  # botocore's stubs type socket_options as list[str]
            "verify": True if verify is None else verify,
            "proxies": client.meta.config.proxies,
            "timeout": timeout,
            "max_pool_connections": max_pool_connections,
            "proxies_config": client.meta.config.proxies_config,
            # what botocore's client sets too: without it Nagle's algorithm holds the body
            # (sent after the headers) for the server's delayed ACK, ~40 ms per request
            "socket_options": [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
        }
        self._http = URLLib3Session(**options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def close(self) -> None:
        self._http.close()

    def batch_write_item(self, **kwargs: Any) -> dict[str, Any]:
        """The same call and result shape as boto3's `batch_write_item`."""
        return self._call("BatchWriteItem", kwargs)

    def scan(self, **kwargs: Any) -> dict[str, Any]:
        """boto3's `scan`, except that `B`/`BS` values in the result are base64 text."""
        return self._call("Scan", kwargs)

    def _call(self, operation: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        from botocore.awsrequest import AWSRequest

        body = json.dumps(
            kwargs, separators=(",", ":"), ensure_ascii=False, default=encode_bytes
        ).encode("utf-8")
        request = AWSRequest(
            method="POST",
            url=self.endpoint_url,
            data=body,
            headers={"Content-Type": CONTENT_TYPE, "X-Amz-Target": PREFIX + operation},
        )
        self._signer.add_auth(request)
        response = self._http.send(request.prepare())
        return parse_response(response.status_code, response.headers, response.content, operation)


def encode_bytes(value: Any) -> str:
    """`B`/`BS` values (bytes) as the wire carries them: base64 text, as botocore sends them.

    json.dumps calls this only for values it cannot encode itself, so other items pay nothing.
    """
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def parse_response(
    status: int, headers: Any, content: bytes, operation: str = "BatchWriteItem"
) -> dict[str, Any]:
    """The decoded body of a 2xx response; botocore's `ClientError` for anything else."""
    from botocore.exceptions import ClientError

    crc = headers.get("x-amz-crc32")
    if crc is not None and zlib.crc32(content) != int(crc):
        # botocore raises ChecksumError and its retry handler retries it; so do we (5xx-like)
        mismatch: Any = {
            "Error": {"Code": "InternalFailure", "Message": "response CRC32 mismatch"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        raise ClientError(mismatch, operation)
    try:
        data = json.loads(content) if content else {}
    except ValueError:
        data = {}
    if 200 <= status < 300:
        return data if isinstance(data, dict) else {}
    error_type = str(data.get("__type", "")) if isinstance(data, dict) else ""
    code = error_type.rpartition("#")[2] or ("InternalFailure" if status >= 500 else str(status))
    message = ""
    if isinstance(data, dict):
        message = str(data.get("message", data.get("Message", "")))
    error: Any = {
        "Error": {"Code": code, "Message": message or content[:200].decode("utf-8", "replace")},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    raise ClientError(error, operation)
