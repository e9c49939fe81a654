"""Lambda runtime bootstrap for Python functions (Python 3.8+, stdlib only).

appsync-local embeds this file and runs one copy per worker process for
`python3.*` functions. It talks to the Lambda Runtime API that appsync-local
serves on AWS_LAMBDA_RUNTIME_API, loads the handler named by _HANDLER from
LAMBDA_TASK_ROOT, and behaves like the AWS-managed Python runtime wherever user
code can notice: handler resolution, context, error shapes.
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
"""

import decimal
import http.client
import importlib.util
import json
import os
import sys
import time
import traceback
from types import SimpleNamespace

PREFIX = "/2018-06-01/runtime"


class RuntimeApi:
    """One HTTP connection kept open across invocations: they are strictly
    sequential, and a fresh TCP handshake per call would dominate small ones."""

    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self.host, self.port = host, int(port)
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        for attempt in (1, 2):
            if self.conn is None:
                # No timeout: `next` is a long poll that may wait indefinitely.
                self.conn = http.client.HTTPConnection(self.host, self.port)
            try:
                self.conn.request(method, PREFIX + path, body, headers or {})
                response = self.conn.getresponse()
                return response, response.read()
            except (OSError, http.client.HTTPException):
                # The server may have closed the idle connection: reconnect once.
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise

    def post(self, path, payload, error_type=None):
        headers = {"Content-Type": "application/json"}
        if error_type:
            # Header values must be ASCII; the body keeps the real name.
            headers["Lambda-Runtime-Function-Error-Type"] = error_type.encode("ascii", "replace").decode()
        response, body = self.request("POST", path, payload, headers)
        if response.status != 202:
            print(f"runtime API: POST {path} returned {response.status}: {body!r}", file=sys.stderr)


# --- Error shapes -------------------------------------------------------------


def error_body(exc, error_type=None, message=None):
    frames = traceback.extract_tb(exc.__traceback__)
    # Start at the user's code, as AWS does: the frames of this bootstrap and
    # of importlib that lead to it are noise.
    while frames and (frames[0].filename == BOOTSTRAP_FILE or frames[0].filename.startswith("<frozen ")):
        frames.pop(0)
    return {
        "errorMessage": str(exc) if message is None else message,
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_list(frames),
    }


BOOTSTRAP_FILE = error_body.__code__.co_filename


class InitError(Exception):
    def __init__(self, body):
        super().__init__(body["errorMessage"])
        self.body = body


def fault(error_type, message):
    return InitError({"errorMessage": message, "errorType": error_type, "stackTrace": []})


# --- Handler loading ----------------------------------------------------------


def load_handler(task_root, spec):
    # "dir/file.fn": the module ends at the first dot after the last slash.
    dot = spec.find(".", spec.rfind("/") + 1)
    if dot < 0:
        raise fault("Runtime.MalformedHandlerName", f"Bad handler '{spec}'")
    module_path, name = spec[:dot], spec[dot + 1 :]
    file = os.path.join(task_root, module_path + ".py")
    stem = os.path.basename(module_path)
    if not os.path.isfile(file):
        raise fault("Runtime.ImportModuleError", f"Unable to import module '{stem}': No module named '{stem}'")

    # Sibling modules and project-root packages must be importable, as they
    # are on AWS where the handler's directory is the task root.
    for directory in (task_root, os.path.dirname(file)):
        if directory not in sys.path:
            sys.path.insert(0, directory)

    try:
        module_spec = importlib.util.spec_from_file_location(stem, file)
        module = importlib.util.module_from_spec(module_spec)
        # Registered before running, so pickle/dataclasses can find it by name.
        sys.modules[stem] = module
        module_spec.loader.exec_module(module)
    except ImportError as e:
        raise InitError(error_body(e, "Runtime.ImportModuleError", f"Unable to import module '{stem}': {e}"))
    except SyntaxError as e:
        # The traceback is all importlib; the location is what helps (AWS's shape).
        trace = [f'  File "{e.filename}" Line {e.lineno}\n    {(e.text or "").strip()}']
        raise InitError({
            "errorMessage": f"Syntax error in module '{stem}': {e}",
            "errorType": "Runtime.UserCodeSyntaxError",
            "stackTrace": trace,
        }) from None
    except Exception as e:
        raise InitError(error_body(e))

    handler = module
    try:
        for part in name.split("."):
            handler = getattr(handler, part)
    except AttributeError:
        raise fault("Runtime.HandlerNotFound", f"Handler '{name}' missing on module '{stem}'") from None
    return handler


# --- Invocation ---------------------------------------------------------------


class LambdaContext:
    __slots__ = (
        "aws_request_id",
        "invoked_function_arn",
        "function_name",
        "function_version",
        "memory_limit_in_mb",
        "log_group_name",
        "log_stream_name",
        "client_context",
        "identity",
        "_deadline_ms",
    )

    def __init__(self, response):
        env = os.environ
        self.aws_request_id = response.getheader("Lambda-Runtime-Aws-Request-Id")
        self.invoked_function_arn = response.getheader("Lambda-Runtime-Invoked-Function-Arn")
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self._deadline_ms = int(response.getheader("Lambda-Runtime-Deadline-Ms") or 0)

        # Same attribute names as the AWS runtime's context objects.
        identity = json_header(response, "Lambda-Runtime-Cognito-Identity") or {}
        self.identity = SimpleNamespace(
            cognito_identity_id=identity.get("cognitoIdentityId"),
            cognito_identity_pool_id=identity.get("cognitoIdentityPoolId"),
        )
        client_context = json_header(response, "Lambda-Runtime-Client-Context")
        self.client_context = None
        if client_context is not None:
            client = client_context.get("client")
            self.client_context = SimpleNamespace(
                client=client
                and SimpleNamespace(
                    installation_id=client.get("installation_id"),
                    app_title=client.get("app_title"),
                    app_version_name=client.get("app_version_name"),
                    app_version_code=client.get("app_version_code"),
                    app_package_name=client.get("app_package_name"),
                ),
                custom=client_context.get("custom"),
                env=client_context.get("env"),
            )

    def get_remaining_time_in_millis(self):
        return max(self._deadline_ms - int(time.time() * 1000), 0)


def json_header(response, name):
    value = response.getheader(name)
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


class Encoder(json.JSONEncoder):
    # AWS's marshaller accepts Decimal (what boto3 returns for DynamoDB numbers).
    def default(self, o):
        if isinstance(o, decimal.Decimal):
            return int(o) if o == o.to_integral_value() else float(o)
        return super().default(o)


def invoke(handler, response, body):
    """Returns (error body or None, serialized result)."""
    try:
        event = json.loads(body)
        result = handler(event, LambdaContext(response))
    except Exception as e:
        return error_body(e), None
    try:
        return None, json.dumps(result, cls=Encoder, ensure_ascii=False).encode()
    except Exception as e:
        return {"errorMessage": f"Unable to marshal response: {e}", "errorType": "Runtime.MarshalError", "stackTrace": []}, None


def main():
    sys.stdout.reconfigure(line_buffering=True)
    sys.stderr.reconfigure(line_buffering=True)
    # The task root is the user's source tree: leave no __pycache__ in it.
    sys.dont_write_bytecode = True
    api = RuntimeApi(os.environ.get("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"))

    try:
        handler = load_handler(os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd(), os.environ.get("_HANDLER", ""))
    except InitError as e:
        print(f"[ERROR] {e.body['errorType']}: {e.body['errorMessage']}", file=sys.stderr)
        api.post("/init/error", json.dumps(e.body).encode(), e.body["errorType"])
        sys.exit(1)

    try:
        serve(api, handler)
    except (OSError, http.client.HTTPException) as e:
        sys.exit(f"runtime API: {e}")


def serve(api, handler):
    while True:
        response, body = api.request("GET", "/invocation/next")
        if response.status != 200:
            sys.exit(f"runtime API: GET next returned {response.status}: {body!r}")
        request_id = response.getheader("Lambda-Runtime-Aws-Request-Id")
        trace = response.getheader("Lambda-Runtime-Trace-Id")
        if trace is None:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        else:
            os.environ["_X_AMZN_TRACE_ID"] = trace

        error, payload = invoke(handler, response, body)
        if error is None:
            api.post(f"/invocation/{request_id}/response", payload)
        else:
            api.post(f"/invocation/{request_id}/error", json.dumps(error).encode(), error["errorType"])


if __name__ == "__main__":
    main()
