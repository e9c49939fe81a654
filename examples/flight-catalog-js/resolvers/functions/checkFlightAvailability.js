import { util } from '@aws-appsync/utils';
import { get } from '@aws-appsync/utils/dynamodb';

// Fail early with a clear error; the transaction's condition still guards
// the seat against concurrent bookings.
export function request(ctx) {
  return get({ key: { id: ctx.args.input.outboundFlightId }, consistentRead: true });
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  const flightId = ctx.args.input.outboundFlightId;
  const flight = ctx.result ?? null;
  if (flight === null) {
    util.error(`Flight '${flightId}' does not exist.`, 'FlightNotFound');
  }
  if (flight.seatCapacity <= 0) {
    util.error(`Flight '${flightId}' is sold out.`, 'FlightSoldOut');
  }
  return flight;
}
