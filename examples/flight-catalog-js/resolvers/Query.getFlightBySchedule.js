import { util } from '@aws-appsync/utils';

// Amplify's @key query on a composite sort key: begins_with on "arrival#date".
// The sort key's attribute name holds a '#', so the request is written out
// rather than built with the dynamodb module's query().
export function request(ctx) {
  const { departureAirportCode, arrivalAirportCode, departureDate, filter, limit, nextToken } =
    ctx.args;
  const sortKey = `${arrivalAirportCode}#${departureDate}`;
  const request = {
    operation: 'Query',
    index: 'ByDepartureSchedule',
    query: {
      expression:
        '#departureAirportCode = :departureAirportCode AND begins_with(#sortKey, :sortKey)',
      expressionNames: {
        '#departureAirportCode': 'departureAirportCode',
        '#sortKey': 'arrivalAirportCode#departureDate',
      },
      expressionValues: {
        ':departureAirportCode': util.dynamodb.toDynamoDB(departureAirportCode),
        ':sortKey': util.dynamodb.toDynamoDB(sortKey),
      },
    },
    scanIndexForward: true,
    limit: limit ?? 100,
  };
  if (nextToken !== undefined && nextToken !== null) {
    request.nextToken = nextToken;
  }
  if (filter) {
    // toDynamoDBFilterExpression answers a JSON string, as in VTL.
    request.filter = JSON.parse(util.transform.toDynamoDBFilterExpression(filter));
  }
  return request;
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  return ctx.result;
}
