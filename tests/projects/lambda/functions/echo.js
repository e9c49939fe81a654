// CommonJS async handler: echoes the event with what it saw of its context.
exports.handler = async (event, context) => ({
  event,
  functionName: context.functionName,
  requestId: context.awsRequestId,
  remaining: context.getRemainingTimeInMillis() > 0,
  env: process.env.GREETING ?? null,
});
