import { util } from '@aws-appsync/utils';

// The flight's bookings, newest first (ByFlight sorts on createdAt). A raw
// request keeps the key condition's text as the VTL demo writes it; the
// dynamodb module's query() would name its own placeholders.
export function request(ctx) {
  const { limit, nextToken } = ctx.args;
  const request = {
    operation: 'Query',
    index: 'ByFlight',
    query: {
      expression: 'outboundFlightId = :outboundFlightId',
      expressionValues: { ':outboundFlightId': util.dynamodb.toDynamoDB(ctx.source.id) },
    },
    scanIndexForward: false,
    limit: limit ?? 20,
  };
  if (nextToken !== undefined && nextToken !== null) {
    request.nextToken = nextToken;
  }
  return request;
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  return {
    items: ctx.result.items ?? null,
    nextToken: ctx.result.nextToken ?? null,
  };
}
