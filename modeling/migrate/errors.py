"""The one error the migration raises for bad input or an unusable setup."""

from __future__ import annotations

from typing import Any

from modeling.core.errors import InputError


class MigrationError(InputError, RuntimeError):
    """A problem the operator must fix (bad plan, unreachable database, missing column).

    `hint` says what to do; the CLI prints both and exits 2.
    """

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


# ---------------------------------------------------------------- AWS failures, by service

# botocore's service names -> how an operator reads them
_SERVICES = {
    "dynamodb": "DynamoDB",
    "s3": "S3",
    "sqs": "SQS",
    "lambda": "Lambda",
    "sts": "STS",
    "cloudformation": "CloudFormation",
}
# the parameter of a call that names what it touched: (parameter, what it is)
_TARGETS = (
    ("Bucket", "bucket"),
    ("TableName", "table"),
    ("QueueUrl", "queue"),
    ("FunctionName", "function"),
    ("LayerName", "layer"),
    ("StackName", "stack"),
)
_CREDENTIAL_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "TokenRefreshRequired",
        "AccessDenied",
        "AccessDeniedException",
        "MissingAuthenticationTokenException",
        "IncompleteSignature",
        "AuthFailure",
        "403",
        "Forbidden",
    }
)
_REGION_CODES = frozenset(
    {
        "PermanentRedirect",
        "AuthorizationHeaderMalformed",
        "IllegalLocationConstraintException",
        "301",
    }
)
_CREDENTIALS = "check the AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID)"


def aws_failure(exc: BaseException, also: str | None = None) -> MigrationError:
    """A botocore failure (`ClientError`, `BotoCoreError`) as a MigrationError that names the
    service whose call failed and what it touched (`S3 (bucket plans): ...`), with a hint that
    fits that service: credentials, bucket, region, queue, table or endpoint.

    The service is read from the botocore client that made the failing call (its frame on the
    traceback: `BaseClient._make_api_call`, or the wire client's `_call`), so a command that
    talks to S3 and DynamoDB blames the right one. `also`: a sentence the caller adds to the
    hint (the permission it needs, what was written anyway).
    """
    service, params = _failed_call(exc)
    name = _SERVICES.get(service or "", service or "AWS")
    target = ""
    for param, what in _TARGETS:
        value = params.get(param)
        if isinstance(value, str) and value:
            target = f" ({what} {value})"
            break
    hint = _hint(exc, service, target)
    return MigrationError(f"{name}{target}: {exc}", f"{hint}; {also}" if also else hint)


def _failed_call(exc: BaseException) -> tuple[str | None, dict[str, Any]]:
    """(botocore service name, the call's parameters) of the client frames that raised `exc`
    ((None, {}) when no client made it). The parameters: the first client frame naming a
    target (`_api_call`'s kwargs, `download_file`'s Bucket, ...)."""
    service: str | None = None
    tb = exc.__traceback__
    while tb is not None:
        local = tb.tb_frame.f_locals
        try:
            name = local["self"].meta.service_model.service_name
        except Exception:  # not a client's frame (any attribute error, even a broken __getattr__)
            name = None
        if isinstance(name, str):
            service = service or name
            params = local.get("api_params", local.get("kwargs"))
            for candidate in (params, local):
                if isinstance(candidate, dict) and any(p in candidate for p, _ in _TARGETS):
                    return service, candidate
        tb = tb.tb_next
    return service, {}


def _code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return ""
    error = response.get("Error", {})
    return str(error.get("Code", "")) if isinstance(error, dict) else ""


def _hint(exc: BaseException, service: str | None, target: str) -> str:
    from botocore import exceptions as bx

    code = _code(exc)
    if isinstance(exc, bx.NoRegionError):
        return "set the region (AWS_REGION, or the profile's region)"
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError) or (
        code in _CREDENTIAL_CODES
    ):
        if service == "dynamodb":
            return f"{_CREDENTIALS} and --endpoint"
        if service == "s3":
            return f"{_CREDENTIALS} and that they may use the bucket{target}"
        return f"{_CREDENTIALS} and their permissions"
    if isinstance(exc, bx.EndpointConnectionError | bx.ConnectTimeoutError | bx.ReadTimeoutError):
        if service == "dynamodb":
            return "check --endpoint (is DynamoDB Local running?) and the network"
        return "check the network, the region (AWS_REGION) and AWS_ENDPOINT_URL if set"
    if service == "s3":
        if code == "NoSuchBucket":
            return (
                "check the bucket name in the s3:// URL; it must exist in this account and region"
            )
        if code in _REGION_CODES:
            return "the bucket is in another region: set AWS_REGION to the bucket's region"
        if code in ("NoSuchKey", "404", "NotFound"):
            return "check the s3:// prefix: the object is not there"
    if service == "dynamodb" or service is None:
        return _dynamodb_hint(code)
    if service == "sqs" and ("NonExistentQueue" in code or code == "QueueDoesNotExist"):
        return "check the queue URL (the stack's output) and the region"
    if code == "ResourceNotFoundException":
        return "check the name and the region (AWS_REGION): it does not exist there"
    if code in ("ThrottlingException", "TooManyRequestsException", "SlowDown"):
        return "the service is throttling: retry later or lower --concurrency"
    return "see the message; check the AWS credentials, the region and the names given"


def _dynamodb_hint(code: str) -> str:
    """What to check for a DynamoDB error, by its code: a refused request is not a setup issue."""
    if code == "ResourceNotFoundException":
        return "check --table and --endpoint (create the table with --create-table)"
    if code == "ValidationException":
        return (
            "DynamoDB refused the request itself (the message says why); the endpoint and "
            "credentials worked"
        )
    if code in ("ProvisionedThroughputExceededException", "ThrottlingException"):
        return "the table is throttling: lower --concurrency or raise its capacity"
    return "see the message; check --endpoint, credentials and --table"
