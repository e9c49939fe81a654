import { extensions } from '@aws-appsync/utils';

export function request(ctx) {
  return {};
}

// After the functions: the flight's seatCapacity changed, so drop its cached
// getFlight entry.
export function response(ctx) {
  extensions.evictFromApiCache('Query', 'getFlight', {
    'context.arguments.id': ctx.prev.result.outboundFlightId,
  });
  return ctx.prev.result;
}
