import { util, extensions } from '@aws-appsync/utils';

export function request() {
  return { payload: {} };
}

// A nested field and a comparison: AND-ed in one filter group.
export function response(ctx) {
  const filter = {
    'outboundFlight.departureAirportCode': { eq: ctx.args.departureAirportCode },
  };
  if (ctx.args.minPrice != null) {
    filter.price = { ge: ctx.args.minPrice };
  }
  extensions.setSubscriptionFilter(util.transform.toSubscriptionFilter(filter));
  return null;
}
