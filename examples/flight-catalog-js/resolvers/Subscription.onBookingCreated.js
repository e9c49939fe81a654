import { util, extensions } from '@aws-appsync/utils';

export function request() {
  return { payload: {} };
}

// Customers hear of their own bookings only: an enhanced filter on the
// caller's sub (which replaces argument filtering, so the flight goes into
// it too). The Admin group keeps plain argument filtering.
export function response(ctx) {
  const groups = ctx.identity.groups ?? [];
  if (!groups.includes('Admin')) {
    const filter = { customer: { eq: ctx.identity.sub } };
    if (ctx.args.outboundFlightId != null) {
      filter.outboundFlightId = { eq: ctx.args.outboundFlightId };
    }
    extensions.setSubscriptionFilter(util.transform.toSubscriptionFilter(filter));
  }
  return null;
}
