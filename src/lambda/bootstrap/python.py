"""Lambda runtime bootstrap for Python functions (Python 3.8+, stdlib only).

appsync-local embeds this file and runs one copy per worker process for
`python3.*` functions. It talks to the Lambda Runtime API that appsync-local
serves on AWS_LAMBDA_RUNTIME_API, loads the handler named by _HANDLER from
LAMBDA_TASK_ROOT, and behaves like the AWS-managed Python runtime wherever user
code can notice: handler resolution, context, error shapes.
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
"""

import decimal
import importlib.util
import json
import os
import socket
import sys
import time
import traceback
from types import SimpleNamespace

PREFIX = "/2018-06-01/runtime"


class RuntimeApi:
    """A minimal HTTP/1.1 client over one kept-alive socket. http.client costs
    more CPU per request than a small handler does, which capped a worker's
    throughput. Invocations are sequential and the server answers requests in
    the order they were sent, so an invocation's outcome and the next `next`
    go out in one write, and answers are matched to the requests pending."""

    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self.address = (host, int(port))
        self.next_request = f"GET {PREFIX}/invocation/next HTTP/1.1\r\nHost: {address}\r\n\r\n".encode()
        self.post_head = f" HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: "
        self.sock = None
        self.reused = False  # whether `sock` has answered anything
        self.started = False  # whether the answer being read has begun
        self.buf = bytearray()  # bytes read and not yet parsed
        self.pending = []  # requests written and not yet answered, oldest first

    def post_request(self, path, payload, error_type=None):
        extra = ""
        if error_type:
            # Header values must be printable ASCII; the body keeps the real name.
            name = "".join(c if " " <= c <= "~" else "?" for c in error_type)
            extra = f"Lambda-Runtime-Function-Error-Type: {name}\r\n"
        return f"POST {PREFIX}{path}{self.post_head}{len(payload)}\r\n{extra}\r\n".encode() + payload

    def send(self, *requests):
        self.pending.extend(requests)
        self.transmit()

    def transmit(self):
        """(Re)writes the pending requests, in one write."""
        while True:
            if self.sock is None:
                # No timeout: `next` is a long poll that may wait indefinitely.
                self.sock = socket.create_connection(self.address)
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.reused = False
                self.buf = bytearray()
            try:
                self.sock.sendall(self.pending[0] if len(self.pending) == 1 else b"".join(self.pending))
                return
            except OSError:
                # A kept-alive connection the server closed while idle.
                self.close()
                if not self.reused:
                    raise

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def receive(self):
        """The answer to the oldest pending request: (status, headers, body).
        The server may close a kept-alive connection, idle or with requests
        pipelined on it: those without a byte of answer were not handled, and
        go again on a new connection. A new connection that ends without an
        answer means the Runtime API is gone."""
        while True:
            try:
                response = self.read_response()
                break
            except ValueError as e:  # a malformed number
                raise ProtocolError(f"malformed response: {e}") from None
            except OSError:
                self.close()
                if not self.reused or self.started:
                    raise
                self.transmit()
        self.pending.pop(0)
        self.reused = True
        if response[3]:  # the server closes the connection after this answer
            self.close()
            if self.pending:
                self.transmit()
        return response[:3]

    def fill(self, size=65536):
        data = self.sock.recv(size)
        if not data:
            raise ConnectionError("connection closed by the server")
        self.started = True
        self.buf += data

    def take_until(self, delimiter):
        start = 0
        while True:
            end = self.buf.find(delimiter, start)
            if end >= 0:
                data = bytes(self.buf[:end])
                del self.buf[: end + len(delimiter)]
                return data
            start = max(0, len(self.buf) - len(delimiter) + 1)
            self.fill()

    def take(self, size):
        if size < 0:
            raise ValueError(f"negative length {size}")
        while len(self.buf) < size:
            self.fill(max(65536, size - len(self.buf)))
        data = bytes(self.buf[:size])
        del self.buf[:size]
        return data

    def read_response(self):
        self.started = bool(self.buf)
        while True:
            lines = self.take_until(b"\r\n\r\n").decode("latin-1").split("\r\n")
            status = int(lines[0][9:12]) if lines[0].startswith("HTTP/1.") else 0
            if status < 100:
                raise ProtocolError(f"malformed response: {lines[0]!r}")
            if status >= 200:
                break  # else interim (100 Continue): the answer follows
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        close = "close" in headers.get("connection", "").lower()
        if status == 204 or status == 304:
            body = b""
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            parts = []
            while True:
                size = int(self.take_until(b"\r\n").split(b";")[0], 16)
                if size == 0:
                    break
                parts.append(self.take(size + 2)[:-2])
            while self.take_until(b"\r\n"):  # trailers, up to an empty line
                pass
            body = b"".join(parts)
        elif "content-length" in headers:
            body = self.take(int(headers["content-length"]))
        else:  # the end of the connection ends the body
            try:
                while True:
                    self.fill()
            except ConnectionError:
                pass
            body, close = bytes(self.buf), True
            self.buf = bytearray()
        return status, headers, body, close

    def post(self, path, payload, error_type=None):
        """Posts alone, and reads the answer (init errors)."""
        self.send(self.post_request(path, payload, error_type))
        self.check(path, self.receive())

    @staticmethod
    def check(path, response):
        status, _, body = response
        if status != 202:
            print(f"runtime API: POST {path} returned {status}: {body!r}", file=sys.stderr)


class ProtocolError(OSError):
    pass


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

    def __init__(self, headers):
        env = os.environ
        self.aws_request_id = headers.get("lambda-runtime-aws-request-id")
        self.invoked_function_arn = headers.get("lambda-runtime-invoked-function-arn")
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self._deadline_ms = int(headers.get("lambda-runtime-deadline-ms") or 0)

        # Same attribute names as the AWS runtime's context objects.
        identity = json_header(headers, "lambda-runtime-cognito-identity") or {}
        self.identity = SimpleNamespace(
            cognito_identity_id=identity.get("cognitoIdentityId"),
            cognito_identity_pool_id=identity.get("cognitoIdentityPoolId"),
        )
        client_context = json_header(headers, "lambda-runtime-client-context")
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


def json_header(headers, name):
    value = headers.get(name)
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


ENCODER = Encoder(ensure_ascii=False)  # json.dumps(cls=...) would build one per call


def invoke(handler, headers, body):
    """Returns (error body or None, serialized result)."""
    try:
        event = json.loads(body)
        result = handler(event, LambdaContext(headers))
    except Exception as e:
        return error_body(e), None
    try:
        return None, ENCODER.encode(result).encode()
    except Exception as e:
        return {"errorMessage": f"Unable to marshal response: {e}", "errorType": "Runtime.MarshalError", "stackTrace": []}, None


def main():
    sys.stdout.reconfigure(line_buffering=True)
    sys.stderr.reconfigure(line_buffering=True)
    # The task root is the user's source tree: leave no __pycache__ in it.
    sys.dont_write_bytecode = True
    address = os.environ.get("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")
    api = RuntimeApi(address)

    # A spare worker (APPSYNC_LOCAL_SPARE=1): appsync-local starts the
    # interpreter before it knows which function will need it, so a cold
    # start costs the handler's import rather than Python's own start. The
    # function's environment arrives here, before any user code runs.
    if os.environ.pop("APPSYNC_LOCAL_SPARE", None) == "1":
        try:
            api.send(f"GET /2018-06-01/appsync-local/assignment HTTP/1.1\r\nHost: {address}\r\n\r\n".encode())
            status, _, body = api.receive()
        except OSError as e:
            sys.exit(f"runtime API: {e}")
        if status != 200:
            sys.exit(f"runtime API: GET assignment returned {status}: {body!r}")
        assignment = json.loads(body)
        os.environ.update(assignment["environment"])
        os.chdir(assignment["cwd"])

    try:
        handler = load_handler(os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd(), os.environ.get("_HANDLER", ""))
    except InitError as e:
        print(f"[ERROR] {e.body['errorType']}: {e.body['errorMessage']}", file=sys.stderr)
        try:
            api.post("/init/error", json.dumps(e.body).encode(), e.body["errorType"])
        except OSError:
            pass  # exiting is all that is left either way
        sys.exit(1)

    try:
        serve(api, handler)
    except OSError as e:
        sys.exit(f"runtime API: {e}")


def serve(api, handler):
    api.send(api.next_request)
    while True:
        status, headers, body = api.receive()
        if status != 200:
            sys.exit(f"runtime API: GET next returned {status}: {body!r}")
        request_id = headers.get("lambda-runtime-aws-request-id")
        trace = headers.get("lambda-runtime-trace-id")
        if trace is None:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        else:
            os.environ["_X_AMZN_TRACE_ID"] = trace

        error, payload = invoke(handler, headers, body)
        if error is None:
            path = f"/invocation/{request_id}/response"
            post = api.post_request(path, payload)
        else:
            path = f"/invocation/{request_id}/error"
            post = api.post_request(path, json.dumps(error).encode(), error["errorType"])
        # The next poll rides along, so the runtime is waiting for its next
        # event as soon as this one is answered: one write, no round trip.
        api.send(post, api.next_request)
        api.check(path, api.receive())


if __name__ == "__main__":
    main()
