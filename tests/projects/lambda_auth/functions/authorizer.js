// A Lambda authorizer: the token names the caller; a few tokens exercise
// refusal, failure, denied fields and the result cache.
let calls = 0;

exports.handler = async (event) => {
  calls += 1;
  const token = event.authorizationToken;
  if (token === "deny") return { isAuthorized: false };
  if (token === "boom") throw new Error("authorizer failed");
  return {
    isAuthorized: true,
    resolverContext: {
      user: token,
      calls: String(calls),
      operationName: event.requestContext.operationName,
      queryString: event.requestContext.queryString,
      variables: JSON.stringify(event.requestContext.variables),
      header: event.requestHeaders["x-trace"] ?? "",
    },
    deniedFields: token === "limited" ? ["Query.secret"] : [],
    ...(token === "no-cache" ? { ttlOverride: 0 } : {}),
  };
};
