import { util } from '@aws-appsync/utils';
import { get } from '@aws-appsync/utils/dynamodb';

export function request(ctx) {
  return get({ key: { id: ctx.args.id } });
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  // Readable by its customer (the token's sub) and by the Admin group: the
  // owner is only known once the item is read. A missing booking is null.
  const booking = ctx.result ?? null;
  if (booking !== null) {
    const groups = ctx.identity?.groups ?? [];
    if (booking.customer !== ctx.identity?.sub && !groups.includes('Admin')) {
      util.unauthorized();
    }
  }
  return booking;
}
