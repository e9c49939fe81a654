import { util } from '@aws-appsync/utils';

// The caller's own loyalty by default; another customer's for the Admin group
// only, as in the airline sample's getLoyalty. The customer's confirmed
// bookings: only their prices are needed. The VTL demo reads at most 1000
// (AppSync's #foreach limit) so its response template can sum them all; this
// one reads as many, to count the same bookings.
export function request(ctx) {
  const caller = ctx.identity?.sub ?? null;
  const customer = ctx.args.customer ?? caller;
  const groups = ctx.identity?.groups ?? [];
  if (customer !== caller && !groups.includes('Admin')) {
    util.unauthorized();
  }
  return {
    operation: 'Query',
    index: 'ByCustomerStatus',
    query: {
      expression: 'customer = :customer AND #status = :confirmed',
      expressionNames: { '#status': 'status' },
      expressionValues: {
        ':customer': util.dynamodb.toDynamoDB(customer),
        ':confirmed': util.dynamodb.toDynamoDB('CONFIRMED'),
      },
    },
    projection: { expression: 'price' },
    limit: 1000,
  };
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  let points = 0;
  for (const booking of ctx.result.items) {
    points += booking.price ?? 0;
  }
  // Say so rather than silently undercount a customer with more bookings.
  if (ctx.result.nextToken) {
    util.appendError('Only the first 1000 confirmed bookings are counted.', 'LoyaltyIncomplete');
  }
  // bronze below 2000 points, silver below 5000, gold from 5000.
  let level = 'bronze';
  let remaining = 2000 - points;
  if (points >= 5000) {
    level = 'gold';
    remaining = 0;
  } else if (points >= 2000) {
    level = 'silver';
    remaining = 5000 - points;
  }
  return { points, level, remainingPoints: remaining };
}
