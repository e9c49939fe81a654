# Sleeps for `ms` milliseconds: for timeouts and concurrency.
import time


def handler(event, context):
    ms = event.get("ms")
    if ms is None:
        ms = (event.get("arguments") or {}).get("ms")
    time.sleep(ms / 1000)
    return {"slept": ms}
