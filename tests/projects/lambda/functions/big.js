// Returns a string of `bytes` characters: for payload size limits.
exports.handler = async (event) => "x".repeat(event.bytes ?? event.arguments.bytes);
