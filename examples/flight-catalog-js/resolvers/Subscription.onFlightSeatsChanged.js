import { util, extensions } from '@aws-appsync/utils';

export function request() {
  return { payload: {} };
}

// `id` names the flight, which the booking holds as outboundFlightId, so
// argument filtering cannot match it: an enhanced filter does. Customers
// hear of their own bookings only.
export function response(ctx) {
  const groups = ctx.identity.groups ?? [];
  const filter = {};
  if (!groups.includes('Admin')) {
    filter.customer = { eq: ctx.identity.sub };
  }
  if (ctx.args.id != null) {
    filter.outboundFlightId = { eq: ctx.args.id };
  }
  if (Object.keys(filter).length > 0) {
    extensions.setSubscriptionFilter(util.transform.toSubscriptionFilter(filter));
  }
  return null;
}
