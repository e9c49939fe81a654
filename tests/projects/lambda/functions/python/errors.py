# Raises a custom exception class when asked to.
class PaymentDeclined(Exception):
    pass


def handler(event, context):
    kind = event.get("kind")
    if isinstance(event.get("arguments"), dict):
        kind = event["arguments"].get("kind", kind)
    if kind == "custom":
        raise PaymentDeclined("card declined")
    return "ok"
