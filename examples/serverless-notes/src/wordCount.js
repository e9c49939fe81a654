// Two jobs, as one function can have: a direct resolver for Note.words,
// and the API's Lambda authorizer (tokens that start with "allow").
exports.handler = async (event) => {
  if (event.authorizationToken !== undefined) {
    return { isAuthorized: event.authorizationToken.startsWith('allow') };
  }
  return event.source.text.split(/\s+/).filter(Boolean).length;
};
