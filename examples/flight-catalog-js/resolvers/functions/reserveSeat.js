import { util } from '@aws-appsync/utils';

// Takes a seat and writes the booking in one transaction, as the airline
// sample's ReserveBooking does: the seat update fails once none are left.
// The customer is the caller (the token's sub), never an argument.
// The request is written out: the dynamodb module's transactWrite() would
// rename the expressions' placeholders.
export function request(ctx) {
  const flight = ctx.prev.result;
  const input = ctx.args.input;
  const attributes = {
    status: 'CONFIRMED',
    outboundFlightId: flight.id,
    paymentToken: input.paymentToken,
    checkedIn: false,
    customer: ctx.identity.sub,
    createdAt: ctx.stash.createdAt,
    bookingReference: ctx.stash.bookingReference,
    price: flight.ticketPrice,
  };
  if ((input.bookingDescription ?? null) !== null) {
    attributes.orderDescription = input.bookingDescription;
  }
  ctx.stash.booking = { id: ctx.stash.bookingId, ...attributes };
  // Transactions name their tables, as the airline sample's templates do
  // (the VTL demo substitutes ${FlightTable} and ${BookingTable}).
  return {
    operation: 'TransactWriteItems',
    transactItems: [
      {
        table: 'Flights',
        operation: 'UpdateItem',
        key: { id: util.dynamodb.toDynamoDB(flight.id) },
        update: {
          expression: 'SET seatCapacity = seatCapacity - :dec',
          expressionValues: { ':dec': util.dynamodb.toDynamoDB(1) },
        },
        condition: {
          expression: 'seatCapacity > :noSeat',
          expressionValues: { ':noSeat': util.dynamodb.toDynamoDB(0) },
        },
      },
      {
        table: 'Bookings',
        operation: 'PutItem',
        key: { id: util.dynamodb.toDynamoDB(ctx.stash.bookingId) },
        attributeValues: util.dynamodb.toMapValues(attributes),
        condition: { expression: 'attribute_not_exists(id)' },
      },
    ],
  };
}

export function response(ctx) {
  if (ctx.error) {
    const reasons = ctx.result?.cancellationReasons ?? [];
    const flightId = ctx.args.input.outboundFlightId;
    // The seat update comes first: its condition fails when another booking
    // took the last seat after checkFlightAvailability read the flight.
    if (reasons.length > 0 && reasons[0].type === 'ConditionCheckFailed') {
      if ((reasons[0].item ?? null) === null) {
        util.error(`Flight '${flightId}' does not exist.`, 'FlightNotFound');
      }
      util.error(`Flight '${flightId}' is sold out.`, 'FlightSoldOut');
    }
    util.error(ctx.error.message, ctx.error.type);
  }
  return ctx.stash.booking;
}
