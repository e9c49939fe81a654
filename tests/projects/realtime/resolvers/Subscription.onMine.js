import { util, extensions } from '@aws-appsync/utils';

export function request() {
  return { payload: {} };
}

// Only the subscriber's own notes, above priority 0 or tagged "urgent".
export function response(ctx) {
  extensions.setSubscriptionFilter(
    util.transform.toSubscriptionFilter({
      owner: { eq: ctx.identity.sub },
      or: [{ priority: { gt: 0 } }, { tags: { contains: 'urgent' } }],
    }),
  );
  return null;
}
