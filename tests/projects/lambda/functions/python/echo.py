# Echoes the event with what the handler saw of its context.
def handler(event, context):
    return {
        "event": event,
        "functionName": context.function_name,
        "requestId": context.aws_request_id,
        "remaining": context.get_remaining_time_in_millis() > 0,
    }
